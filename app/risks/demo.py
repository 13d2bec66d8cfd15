"""Demo risk register: about 25 quarter-close risks with their actions, eight weeks of history and three past
weekly reviews, so the heat map, the trend and this week's agenda have something to show.

History is written with its real dates (score periods and audit events in the past), which is why rows are inserted
directly rather than through the services (those stamp everything "now"). Safe to run twice: an existing demo
register is left alone.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from app.audit.models import AuditEvent
from app.auth.services import find_user_by_email
from app.extensions import db
from app.reviews.agenda import slot_in_week, week_bounds, week_key
from app.reviews.models import ReviewAttendee, ReviewDecision, ReviewItem, ReviewStatus, RiskReview
from app.risks import cadence, history
from app.risks.demo_data import AVERY, CASEY, DEMO_RISKS, ROWAN, DemoRisk
from app.risks.models import Risk, RiskAction, RiskComment, RiskLevel, RiskScore, RiskStatus
from app.risks.scoring import current_settings, level_for
from app.calendar.services import quarter_for
from app.timeutil import utcnow

PAST_REVIEWS = 3
MEETING = timedelta(minutes=45)
STALE_AFTER = 10  # days: older risks get a recent progress note, except the ones meant to look stale
ROUTINE_NOTE = "Checked this week: no change to the score; the actions are on track."


def _periods(demo: DemoRisk, now: datetime) -> list[dict[str, Any]]:
    """The risk's states, oldest first: each score or status change starts a new one."""
    events = sorted([(days, "score", (l, i)) for days, l, i in demo.scores] +
                    [(days, "status", status) for days, status, _reason in demo.statuses], key=lambda e: -e[0])
    state = {"likelihood": demo.scores[0][1], "impact": demo.scores[0][2], "status": "open"}
    periods: list[dict[str, Any]] = []
    for days, kind, value in events:
        at = now - timedelta(days=days)
        moved = kind == "score" and (value[0], value[1]) != (state["likelihood"], state["impact"])
        if kind == "score":
            state["likelihood"], state["impact"] = value
        else:
            state["status"] = value
        if periods and periods[-1]["valid_from"] == at:
            periods[-1].update(state)
            continue
        periods.append({**state, "valid_from": at, "score_changed": moved or not periods,
                        "cause": "created" if not periods else ("edit" if kind == "score" else "status")})
    for current, following in zip(periods, periods[1:]):
        current["valid_to"] = following["valid_from"]
    periods[-1]["valid_to"] = None
    return periods


def _audit(at: datetime, actor: str, action: str, entity: str, entity_id: int, label: str,
           changes: dict[str, list]) -> dict[str, Any]:
    return {"occurred_at": at, "actor_id": None, "actor_label": actor, "action": action, "entity_type": entity,
            "entity_id": str(entity_id), "entity_label": label[:200], "changes": changes}


def _insert_risk(demo: DemoRisk, people: dict, settings, now: datetime, today, audit: list) -> tuple[int, list]:
    owner = people[demo.owner]
    grid = settings.grid
    periods = _periods(demo, now)
    last = periods[-1]
    created = now - timedelta(days=demo.created)
    touched = [p["valid_from"] for p in periods] + [now - timedelta(days=a[4]) for a in demo.actions]
    notes = []
    if demo.updated is None and last["status"] != "closed" and now - max(touched) > timedelta(days=STALE_AFTER):
        # Owners keep their risks current with a note now and then (a comment counts as an update).
        noted = now - timedelta(days=2 + len(demo.title) % 8, hours=len(demo.description) % 9)
        notes.append((noted, ROUTINE_NOTE))
        touched.append(noted)
    updated = now - timedelta(days=demo.updated) if demo.updated is not None else max(touched)
    approver = people[AVERY if demo.owner != AVERY else CASEY]
    row = {"title": demo.title, "description": demo.description, "category": demo.category, "source": demo.source,
           "owner_id": owner.id, "fiscal_year": 0, "quarter": 0, "exposure": demo.exposure,
           "inherent_likelihood": demo.inherent[0], "inherent_impact": demo.inherent[1],
           "likelihood": last["likelihood"], "impact": last["impact"],
           "inherent_level": level_for(grid, *demo.inherent).value,
           "level": level_for(grid, last["likelihood"], last["impact"]).value, "status": last["status"],
           "close_reason": next((r for _d, s, r in demo.statuses if s == "closed"), ""),
           "accepted_by_id": approver.id if demo.accepted else None,
           "acceptance_reason": demo.accepted[0] if demo.accepted else "",
           # Expiring before the quarter closes, whatever day the demo is loaded: it belongs on this week's agenda.
           "acceptance_expires_on": min(today + timedelta(days=demo.accepted[1]), quarter_for(today).last_day)
           if demo.accepted else None,
           "created_at": created, "updated_at": updated}
    quarter = quarter_for(today)
    row["fiscal_year"], row["quarter"] = quarter.fiscal_year, quarter.quarter
    risk_id = db.session.execute(insert(Risk.__table__).returning(Risk.__table__.c.id), row).scalar_one()
    label = f"R-{risk_id} {demo.title}"
    first = periods[0]
    audit.append(_audit(created, demo.owner, "create", "risks", risk_id, label, {
        **{key: [None, row[key]] for key in ("title", "description", "category", "source", "owner_id",
                                             "fiscal_year", "quarter", "inherent_likelihood", "inherent_impact",
                                             "inherent_level") if row[key] not in (None, "")},
        **({"exposure": [None, str(demo.exposure)]} if demo.exposure else {}),
        **{key: [None, first[key]] for key in ("likelihood", "impact", "status")}}))
    scores = []
    for previous, period in zip([None] + periods, periods):
        level = level_for(grid, period["likelihood"], period["impact"]).value
        scores.append({"risk_id": risk_id, "valid_from": period["valid_from"], "valid_to": period["valid_to"],
                       "inherent_likelihood": demo.inherent[0], "inherent_impact": demo.inherent[1],
                       "likelihood": period["likelihood"], "impact": period["impact"], "level": level,
                       "status": period["status"], "score_changed": period["score_changed"],
                       "cause": period["cause"], "actor_label": demo.owner})
        if previous is not None:
            changes = {key: [previous[key], period[key]] for key in ("likelihood", "impact", "status")
                       if previous[key] != period[key]}
            if period["status"] == "accepted" and demo.accepted:
                changes.update(accepted_by_id=[None, approver.id], acceptance_reason=[None, demo.accepted[0]],
                               acceptance_expires_on=[None, row["acceptance_expires_on"].isoformat()])
            elif period["status"] == "closed":
                changes["close_reason"] = ["", row["close_reason"]]
            audit.append(_audit(period["valid_from"], demo.owner, "update", "risks", risk_id, label, changes))
    db.session.execute(insert(RiskScore.__table__), scores)
    for what, who, due_in, status, made_days in demo.actions:
        made = now - timedelta(days=made_days)
        action = {"risk_id": risk_id, "description": what, "owner_id": people[who].id,
                  "due_on": today + timedelta(days=due_in), "status": status, "drop_reason": "",
                  "completed_at": made + (now - made) / 2 if status == "done" else None, "created_at": made}
        action_id = db.session.execute(insert(RiskAction.__table__).returning(RiskAction.__table__.c.id),
                                       action).scalar_one()
        audit.append(_audit(made, demo.owner, "create", "risk_actions", action_id, f"R-{risk_id} action: {what}",
                            {"description": [None, what], "due_on": [None, action["due_on"].isoformat()],
                             "status": [None, "todo"]}))
        if status != "todo":
            audit.append(_audit(action["completed_at"] or made + timedelta(days=1), who, "update", "risk_actions",
                                action_id, f"R-{risk_id} action: {what}", {"status": ["todo", status]}))
    if demo.comment:
        notes.append((now - timedelta(days=demo.created / 2), demo.comment))
    for at, body in notes:
        db.session.execute(insert(RiskComment.__table__), {
            "risk_id": risk_id, "author_id": owner.id, "author_name": owner.name, "body": body, "created_at": at})
    return risk_id, periods


def _state_at(periods: list[dict], at: datetime) -> dict | None:
    covering = [p for p in periods if p["valid_from"] <= at and (p["valid_to"] is None or p["valid_to"] > at)]
    return covering[0] if covering else None


def _past_reviews(risks: list[tuple[int, DemoRisk, list]], people: dict, settings, today,
                  now: datetime) -> dict[int, datetime]:
    """Three finished reviews of the previous weeks; returns when each risk was last reviewed."""
    reviewed: dict[int, datetime] = {}
    since = None
    for weeks_back in range(PAST_REVIEWS, 0, -1):
        day = today - timedelta(weeks=weeks_back)
        built = slot_in_week(settings, day)
        since = since or built - timedelta(days=7)
        review = RiskReview(week_key=week_key(day), week_start=week_bounds(day)[0], built_by="scheduler",
                            meeting_on=week_bounds(day)[0] + timedelta(days=settings.review_weekday), since=since,
                            built_at=built, status=ReviewStatus.FINISHED, started_at=built,
                            finished_at=built + MEETING, chaired_by_id=people[CASEY].id,
                            summary="Went through the critical and high risks; owners to update their actions.",
                            pre_read_sent_at=built, reminders_sent_at=built + MEETING)
        review.attendees = [ReviewAttendee(user_id=people[email].id, name=people[email].name)
                            for email in (AVERY, CASEY, ROWAN)]
        position = 0
        for risk_id, demo, periods in risks:
            state = _state_at(periods, built)
            level = level_for(settings.grid, state["likelihood"], state["impact"]) if state else None
            moved = any(since < p["valid_from"] <= built and p["score_changed"] and p["cause"] != "created"
                        for p in periods)
            new = since < periods[0]["valid_from"] <= built
            if state is None or state["status"] in ("closed", "accepted") or not (new or moved or level.rank >= 2):
                continue
            position += 1
            reasons = (["new"] if new else []) + (["score_changed"] if moved else []) + \
                      ([] if new or moved else ["review_due"])
            made = [a for a in demo.actions if built < now - timedelta(days=a[4]) <= built + timedelta(days=1)]
            decision, outcome = ("add_action", f"Action added: {made[0][0]}.") if made else ("keep", "Kept as it is.")
            decided = ReviewDecision(decision=decision, outcome=outcome,
                                     note="Owner to report progress next week." if level.rank >= 3 else "",
                                     decided_at=built + MEETING / 2, decided_by_id=people[CASEY].id,
                                     decided_by_name=people[CASEY].name)
            review.items.append(ReviewItem(
                position=position, risk_id=risk_id, reasons=reasons, decisions=[decided],
                snapshot={"reference": f"R-{risk_id}", "title": demo.title, "owner": people[demo.owner].name,
                          "status": state["status"], "level": level.value, "likelihood": state["likelihood"],
                          "impact": state["impact"], "inherent_likelihood": demo.inherent[0],
                          "inherent_impact": demo.inherent[1], "quarter": "", "actions": []}))
            reviewed[risk_id] = built + MEETING / 2
        db.session.add(review)
        since = built
    return reviewed


def seed_demo_risks() -> int:
    """Load the demo register when it is missing; returns how many risks were added (0 when already there)."""
    if db.session.scalar(select(Risk.id).where(Risk.title == DEMO_RISKS[0].title).limit(1)) is not None:
        return 0
    people = {email: find_user_by_email(email) for email in (AVERY, CASEY, ROWAN)}
    if any(person is None for person in people.values()):
        return 0  # the demo users come first (seed_demo makes them)
    settings = current_settings()
    now, today = utcnow(), cadence.team_today(settings)
    audit: list[dict] = []
    risks = []
    for demo in DEMO_RISKS:
        risk_id, periods = _insert_risk(demo, people, settings, now, today, audit)
        risks.append((risk_id, demo, periods))
    db.session.execute(insert(AuditEvent.__table__), audit)
    history.forget_trend()  # history was just written in the past: kept weekly counts would be wrong
    reviewed = _past_reviews(risks, people, settings, today, now)
    db.session.flush()
    table = Risk.__table__
    rows = db.session.execute(select(table.c.id, table.c.status, table.c.level, table.c.created_at)
                              .where(table.c.id.in_([r[0] for r in risks]))).all()
    dates = []
    for risk_id, status, level, created_at in rows:
        # The dates the past reviews and the cadence imply; a plain UPDATE, as they are not a change anyone made.
        state = SimpleNamespace(status=RiskStatus(status), level=RiskLevel(level), created_at=created_at,
                                last_reviewed_at=reviewed.get(risk_id))
        dates.append({"risk_id": risk_id, "reviewed": state.last_reviewed_at,
                      "next_review": cadence.next_review_on(state, settings)})
    # One statement run for every risk (executemany), not one round trip each.
    db.session.execute(update(table).where(table.c.id == bindparam("risk_id")).values(
        last_reviewed_at=bindparam("reviewed"), next_review_on=bindparam("next_review")), dates)
    db.session.commit()
    return len(risks)
