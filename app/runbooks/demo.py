"""Demo runbooks: index the runbooks/ folder, then give it some history: reviews of all but the deliberately
overdue one, acknowledgements, and a few runs (the billing restart has failed often enough to need review)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.auth.services import find_user_by_email
from app.extensions import db
from app.runbooks.models import (ReviewOutcome, Runbook, RunbookAcknowledgement, RunbookReview, RunbookRun,
                                 RunbookRunStep, RunOutcome)
from app.runbooks.sync import sync_runbooks
from app.timeutil import utcnow

REVIEWED = {"erp-failover-failback": 20, "billing-batch-restart": 40, "payment-gateway-outage": 10,
            "contact-details-reminder": 120}  # days ago; vendor-escalation stays overdue on purpose
# slug, days ago, by, outcome, note, failed step positions
DEMO_RUNS = [
    ("billing-batch-restart", 70, "oncall@acme.example", "worked", "", ()),
    ("billing-batch-restart", 41, "oncall@acme.example", "deviations",
     "billing-ctl last-batch printed nothing; found the batch number in the ERP's job log instead.", (4,)),
    ("billing-batch-restart", 12, "crisis@acme.example", "failed",
     "The rerun failed with the same tax engine error; escalated to Levy.", (4, 5)),
    ("erp-failover-failback", 25, "crisis@acme.example", "worked", "", ()),
]


def _runbooks() -> dict[str, Runbook]:
    return {row.slug: row for row in db.session.scalars(select(Runbook).where(Runbook.removed_at.is_(None)))}


def seed_demo_runbooks() -> int:
    """Index the folder and add the demo history unless a run exists already; returns runs made."""
    sync_runbooks()
    if db.session.scalar(select(RunbookRun.id).limit(1)) is not None:
        return 0
    now, rows = utcnow(), _runbooks()
    crisis = find_user_by_email("crisis@acme.example")
    for slug, days in REVIEWED.items():
        row = rows.get(slug)
        if row is not None and crisis is not None and row.content_hash:
            db.session.add(RunbookReview(runbook_id=row.id, content_hash=row.content_hash,
                                         outcome=ReviewOutcome.REVIEWED.value, by_id=crisis.id, by_name=crisis.name,
                                         at=now - timedelta(days=days), note="Checked against the last exercise."))
    made = 0
    for slug, days, email, outcome, note, failed in DEMO_RUNS:
        row, person = rows.get(slug), find_user_by_email(email)
        if row is None or person is None or not row.step_titles:
            continue
        started = now - timedelta(days=days)
        run = RunbookRun(runbook_id=row.id, content_hash=row.content_hash, step_titles=list(row.step_titles),
                         started_by_id=person.id, started_by_name=person.name, started_at=started,
                         finished_at=started + timedelta(minutes=50), outcome=RunOutcome(outcome).value, note=note)
        for position, title in enumerate(row.step_titles, start=1):
            mark = "failed" if position in failed else "done"
            run.steps.append(RunbookRunStep(position=position, title=title[:200], outcome=mark, by_name=person.name,
                                            at=started + timedelta(minutes=5 * position)))
        db.session.add(run)
        made += 1
    oncall = find_user_by_email("oncall@acme.example")
    if oncall is not None and "billing-batch-restart" in rows:
        row = rows["billing-batch-restart"]
        db.session.add(RunbookAcknowledgement(runbook_id=row.id, user_id=oncall.id, content_hash=row.content_hash,
                                              at=now - timedelta(days=30)))
    db.session.commit()
    return made
