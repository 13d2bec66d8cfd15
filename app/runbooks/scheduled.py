"""Scheduler jobs: keep the index in step with RUNBOOKS_DIR (every minute, and once when the scheduler starts),
remind owners of reviews (14 days before and when overdue, once each) and keep this quarter's report counts.

A reminder is claimed by a RunbookReminder row with a unique (runbook, kind, due date) key before its message
is queued, in the same transaction: two schedulers, or a job run twice, send it once. A review that moves the
due date makes the next reminders due afresh. Outcomes (queued, no owner, no verified method) are kept.
"""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.alerting.notices import queue_notice
from app.extensions import db
from app.oncall.models import ContactKind
from app.oncall.services import list_methods
from app.runbooks.catalog import CatalogEntry, catalog_entries
from app.runbooks.models import RunbookReminder
from app.runbooks.report import build_report, record_snapshot
from app.runbooks.sync import sync_runbooks

log = logging.getLogger("quarterdeck.runbooks")
PURPOSE = "runbook_review"
# Written, not spoken: email first, then SMS.
REMINDER_KINDS = (ContactKind.EMAIL, ContactKind.SMS)


def sync_runbook_folder() -> dict[str, int]:
    try:
        return sync_runbooks().as_dict()
    except IntegrityError:
        # Two schedulers started together and indexed the same new files: the other one's rows stand, and
        # the next sync (a minute from now) compares against them.
        db.session.rollback()
        log.info("runbook index: another scheduler indexed the same files at the same time; checking again "
                 "at the next sync")
        return {"raced": 1}


def _method(person):
    usable = [method for method in list_methods(person) if method.is_usable]
    return next((method for kind in REMINDER_KINDS for method in usable if method.kind == kind), None)


def _claimed(entry: CatalogEntry, kind: str) -> RunbookReminder | None:
    """The reminder's row, written now; None when it exists already (sent before, or by another scheduler)."""
    runbook = entry.runbook
    key = (RunbookReminder.runbook_id == runbook.id, RunbookReminder.kind == kind,
           RunbookReminder.due_on == entry.next_review_on)
    if db.session.scalar(select(RunbookReminder.id).where(*key)) is not None:
        return None
    row = RunbookReminder(runbook_id=runbook.id, kind=kind, due_on=entry.next_review_on, outcome="no_owner")
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    return row


def _remind(entry: CatalogEntry, kind: str) -> str | None:
    row = _claimed(entry, kind)
    if row is None:
        return None
    runbook, owner = entry.runbook, entry.runbook.owner
    method = _method(owner) if owner is not None and owner.active else None
    if owner is None or not owner.active:
        log.warning("runbook review reminder for %s: no active owner", runbook.path)
    elif method is None:
        row.user_id, row.outcome = owner.id, "no_method"
        log.warning("runbook review reminder for %s to %s: no verified email or SMS", runbook.path, owner.email)
    else:
        message = queue_notice(user_id=owner.id, method=method, purpose=PURPOSE,
                               template=f"{PURPOSE}_{method.kind.value}", kind=kind, name=owner.name,
                               title=runbook.title, due_on=entry.next_review_on.isoformat(), path=runbook.path,
                               days=runbook.review_every_days,
                               url=f"{current_app.config['PUBLIC_BASE_URL']}/runbooks/{runbook.slug}")
        row.user_id, row.message_id, row.outcome = owner.id, message.id, "queued"
    db.session.commit()
    return row.outcome


def remind_review_owners() -> dict[str, int]:
    """Queue each due reminder once: "due_soon" within 14 days of the next review, "overdue" after it."""
    summary = {"queued": 0, "no_owner": 0, "no_method": 0}
    for entry in catalog_entries():
        if entry.next_review_on is None or not entry.runbook.valid:
            continue
        kind = {"due": "due_soon", "overdue": "overdue"}.get(entry.review_state)
        if kind is None:
            continue
        outcome = _remind(entry, kind)
        if outcome:
            summary[outcome] += 1
    return summary


def runbook_daily_work() -> dict[str, object]:
    """Reminders, then this quarter's report counts for the trend."""
    reminders = remind_review_owners()
    snapshot = record_snapshot(build_report())
    return {"reminders": reminders, "report": snapshot.counts}
