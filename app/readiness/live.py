"""The live readiness of an open quarter (and its "what to chase"), computed once and kept per process instead of
recomputed per view.

A page view reads the kept result; it is computed again when the data it reads changes (a commit in this process
that wrote through the session: an edit, a detection pass, a review) and at the latest LIVE_SECONDS after it was
computed, which bounds how stale another process's changes (another web worker, the scheduler) can look. Judged
"now" moves on too: a result is also dropped when the close region's date is no longer the one it was judged on.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import TextClause, event

from app.extensions import db
from app.readiness.chase import ChaseGroup, what_to_chase
from app.readiness.score import Readiness, compute_readiness
from app.timeutil import FiscalQuarter, utcnow

LIVE_SECONDS = 60
KEPT = "readiness_live"  # app.extensions key: {quarter: Readiness}
WROTE = "readiness_inputs_written"  # session.info flag: this transaction wrote something


def live_readiness(quarter: FiscalQuarter) -> Readiness:
    """The open quarter's readiness, at most LIVE_SECONDS old and never older than this process's last write."""
    kept: dict = current_app.extensions.setdefault(KEPT, {})
    now = utcnow()
    readiness = kept.get(quarter)
    if readiness is not None:
        judged = readiness.context.now
        if timedelta(0) <= now - judged < timedelta(seconds=LIVE_SECONDS):
            return readiness
    readiness = kept[quarter] = compute_readiness(quarter=quarter)
    return readiness


def live_chase(readiness: Readiness) -> list[ChaseGroup]:
    """What to chase as of the kept readiness: computed with the first view that needs it, kept as long as it."""
    kept: dict = current_app.extensions.setdefault(KEPT, {})
    key = ("chase", readiness.quarter)
    hit = kept.get(key)
    if hit is not None and hit[0] is readiness:
        return hit[1]
    groups = what_to_chase(readiness.context)
    kept[key] = (readiness, groups)
    return groups


def forget_live_readiness() -> None:
    current_app.extensions.get(KEPT, {}).clear()


def _note_write(session, *_args) -> None:
    session.info[WROTE] = True


WRITING_TEXT = ("INSERT", "UPDATE", "DELETE", "WITH")  # a textual statement that may write (the detector's on PostgreSQL)


def _note_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete or (
            isinstance(state.statement, TextClause) and state.statement.text.lstrip()[:6].upper().startswith(WRITING_TEXT)):
        state.session.info[WROTE] = True


def _after_commit(session) -> None:
    if session.info.pop(WROTE, False):
        forget_live_readiness()


def _after_rollback(session) -> None:
    session.info.pop(WROTE, None)


def init_app(app: Flask) -> None:
    """Listen for writes through the session (registered here, not at import; once per process)."""
    app.extensions.setdefault(KEPT, {})
    if not event.contains(db.session, "after_commit", _after_commit):
        event.listen(db.session, "after_flush", _note_write)
        event.listen(db.session, "do_orm_execute", _note_statement)
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_rollback", _after_rollback)
