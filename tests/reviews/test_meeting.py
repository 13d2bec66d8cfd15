"""Running the meeting: each decision changes the risk through the register's rules, and the minutes keep them."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from app.errors import Conflict, Invalid
from app.extensions import db
from app.reviews import meeting, queries
from app.reviews.agenda import build_review
from app.reviews.minutes import minutes_markdown
from app.reviews.models import ReviewDecision
from app.risks import history
from tests.risks.fixtures import TUESDAY

TODAY = date(2026, 11, 17)


@pytest.fixture
def chair(make_user):
    return make_user("crisis_team", name="Casey Chair")


@pytest.fixture
def review(app, make_risk, at):
    with at(TUESDAY - timedelta(days=2)):
        make_risk(title="Order import backlog", likelihood=4, impact=4)
        make_risk(title="Tax engine outage", likelihood=3, impact=3)
    with at(TUESDAY):
        built, _created = build_review()
    return built


def item_titled(review, title):
    return next(item for item in review.items if item.snapshot["title"] == title)


def decide(review, title, actor, at, **values):
    """Record one decision on the item titled `title`; returns the item."""
    item = item_titled(review, title)
    with at(TUESDAY + timedelta(minutes=10)):
        meeting.record_decision(review, item, actor=actor, **values)
    return item


def test_changing_the_score_goes_through_the_register_and_counts_as_a_review(review, chair, at):
    item = decide(review, "Order import backlog", chair, at, decision="change_score", likelihood=2, impact=4,
                  note="Workers doubled")
    risk = item.risk
    assert (risk.likelihood, risk.impact, risk.level.value) == (2, 4, "medium")
    assert item.outcome == "Residual score 4×4 (high) → 2×4 (medium)."
    [decision] = item.decisions
    assert (decision.decision, decision.note, decision.decided_by_name) == ("change_score", "Workers doubled",
                                                                            "Casey Chair")
    assert history.score_history(risk)[-1].cause == "review"
    assert risk.last_reviewed_at == TUESDAY + timedelta(minutes=10)
    assert risk.next_review_on == TODAY + timedelta(days=30)  # medium now
    assert review.status.value == "in_progress" and [a.name for a in review.attendees] == ["Casey Chair"]


def test_the_same_score_is_not_a_change(review, chair, at):
    with pytest.raises(Invalid, match="That is the score it has") as error:
        decide(review, "Order import backlog", chair, at, decision="change_score", likelihood=4, impact=4)
    assert error.value.field == "likelihood"
    db.session.rollback()
    assert item_titled(review, "Order import backlog").decisions == []


def test_adding_an_action_is_checked_like_the_risk_page(review, chair, owner, at):
    with pytest.raises(Invalid) as error:
        decide(review, "Tax engine outage", chair, at, decision="add_action", action_description="Call them",
               action_owner_id=None, action_due_on=TODAY + timedelta(days=7))
    assert error.value.field == "action_owner_id"
    db.session.rollback()
    item = decide(review, "Tax engine outage", chair, at, decision="add_action", action_description="Call the vendor",
                  action_owner_id=owner.id, action_due_on=date(2027, 2, 15))
    assert [a.description for a in item.risk.actions] == ["Call the vendor"]
    assert item.outcome == "Action added: Call the vendor (Olive Owner, due 2027-02-15). It is due after the " \
                           "quarter closes."


def test_accepting_needs_an_approver_who_does_not_own_the_risk(review, owner, chair, at):
    with pytest.raises(Invalid, match="You own this risk") as error:
        decide(review, "Tax engine outage", owner, at, decision="accept", reason="Tolerable",
               expires_on=TODAY + timedelta(days=20))
    assert error.value.field == "decision"
    db.session.rollback()
    item = decide(review, "Tax engine outage", chair, at, decision="accept", reason="Tolerable",
                  expires_on=TODAY + timedelta(days=20))
    assert item.risk.status.value == "accepted" and item.risk.accepted_by_id == chair.id
    assert item.outcome == "Accepted until 2026-12-07: Tolerable"


def test_closing_needs_a_reason_and_escalating_flags_the_risk(review, chair, at):
    with pytest.raises(Invalid, match="Say why") as error:
        decide(review, "Tax engine outage", chair, at, decision="close", reason="")
    assert error.value.field == "reason"
    db.session.rollback()
    closed = decide(review, "Tax engine outage", chair, at, decision="close", reason="Vendor replaced")
    escalated = decide(review, "Order import backlog", chair, at, decision="escalate", note="Needs budget")
    assert closed.risk.status.value == "closed" and closed.risk.next_review_on is None
    assert escalated.risk.escalated_at == TUESDAY + timedelta(minutes=10)
    assert escalated.outcome == "Escalated to the executives, but there is no active executive to notify."


def test_an_item_takes_several_decisions_each_on_the_risks_history(review, chair, owner, at, login_as):
    item = decide(review, "Tax engine outage", chair, at, decision="accept", reason="Tolerable",
                  expires_on=TODAY + timedelta(days=20), note="Until the vendor ships the fix")
    decide(review, "Tax engine outage", chair, at, decision="add_action", action_description="Track the fix",
           action_owner_id=owner.id, action_due_on=TODAY + timedelta(days=10))
    decide(review, "Tax engine outage", chair, at, decision="add_action", action_description="Test the fix",
           action_owner_id=owner.id, action_due_on=TODAY + timedelta(days=12))

    assert item.decision_values == ["accept", "add_action", "add_action"]
    assert item.risk.status.value == "accepted" and len(item.risk.actions) == 2
    page = login_as("executive").get(f"/risks/{item.risk_id}").get_data(as_text=True)
    table = page[page.index('data-testid="risk-reviews"'):page.index("</table>", page.index('data-testid="risk-reviews"'))]
    assert table.count("2026-W47") == 3 and "Accepted until 2026-12-07" in table and "Test the fix" in table


def test_the_same_decision_twice_and_keep_beside_another_are_refused(review, chair, at):
    decide(review, "Tax engine outage", chair, at, decision="keep")
    with pytest.raises(Conflict, match="kept as it is"):
        decide(review, "Tax engine outage", chair, at, decision="close", reason="Gone")
    decide(review, "Order import backlog", chair, at, decision="change_score", likelihood=3, impact=4)
    with pytest.raises(Conflict, match="already has this decision"):
        decide(review, "Order import backlog", chair, at, decision="change_score", likelihood=2, impact=4)
    with pytest.raises(Conflict, match="keeping it as is says the opposite"):
        decide(review, "Order import backlog", chair, at, decision="keep")


def test_finishing_records_attendees_and_freezes_the_minutes(review, chair, make_user, at):
    other = make_user("admin", name="Avery Admin")
    decide(review, "Order import backlog", chair, at, decision="keep", note="Fine for now")
    with pytest.raises(Invalid, match="Tick who attended"):
        meeting.finish_review(review, actor=chair, attendee_ids=[], summary="")
    with at(TUESDAY + timedelta(minutes=40)):
        meeting.finish_review(review, actor=chair, attendee_ids=[chair.id, other.id], summary="Short meeting")
    assert review.status.value == "finished" and review.finished_at == TUESDAY + timedelta(minutes=40)
    assert sorted(a.name for a in review.attendees) == ["Avery Admin", "Casey Chair"]
    with pytest.raises(Conflict, match="finished"):
        decide(review, "Tax engine outage", chair, at, decision="keep")
    with pytest.raises(Conflict):
        meeting.finish_review(review, actor=chair, attendee_ids=[chair.id])

    text = minutes_markdown(review, queries.items_of(review), [], "America/Los_Angeles")
    assert text.startswith("# Weekly risk review 2026-W47\n")
    assert "- Attended: Avery Admin, Casey Chair" in text and "Short meeting" in text
    first, second = (item.risk_id for item in review.items)
    assert f"| R-{first} Order import backlog | high (4×4) | New since the last review | Keep as is | " \
           "Kept as it is. | " \
           "Fine for now | Casey Chair |" in text
    assert f"## Not discussed\n\n- R-{second} Tax engine outage" in text


def test_a_risk_page_lists_the_reviews_it_was_on(review, chair, at, login_as):
    item = decide(review, "Order import backlog", chair, at, decision="keep", note="Watch it")
    page = login_as("executive").get(f"/risks/{item.risk_id}").get_data(as_text=True)
    table = page[page.index('data-testid="risk-reviews"'):]
    assert "2026-W47" in table and "Keep as is" in table and "Watch it" in table


def test_of_two_people_taking_the_same_decision_at_once_the_second_is_refused(review, chair, make_user, at):
    second = make_user("admin")
    item = item_titled(review, "Order import backlog")
    assert item.decisions == []  # loaded: this session still sees the item undecided
    with db.engine.connect() as elsewhere:  # someone else's request, committed meanwhile
        elsewhere.execute(insert(ReviewDecision).values(item_id=item.id, decision="change_score", note="",
                                                        outcome="Residual score 4×4 (high) → 3×4 (high).",
                                                        decided_at=TUESDAY, decided_by_name="Casey Chair"))
        elsewhere.commit()
    with pytest.raises(Conflict, match="already has this decision"):
        decide(review, "Order import backlog", second, at, decision="change_score", likelihood=1, impact=1)
    db.session.expire_all()
    assert (item.decision_values, item.risk.likelihood) == (["change_score"], 4)
