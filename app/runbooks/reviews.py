"""Reviews (by the owner or the crisis team) and acknowledgements (by the people a runbook names as readers).

A review is of the version (content hash) on file when it is recorded. "Reviewed" restarts the cadence,
"changes requested" leaves it running and says what is wrong, "retired" takes the runbook out of reviews,
coverage and reminders until someone reviews it again. An acknowledgement is of one version too: when the
file's content changes, everyone's acknowledgement of the old version has lapsed.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.auth.roles import EDITORS, Role
from app.errors import Forbidden, Invalid
from app.extensions import db
from app.oncall.rotations import list_rotations
from app.runbooks.models import ReviewOutcome, Runbook, RunbookAcknowledgement, RunbookReview
from app.timeutil import utcnow

NOTE_MAX = 2000


def latest_reviews(runbook_ids: list[int] | None = None) -> dict[int, RunbookReview]:
    """The latest review of each runbook (of any outcome)."""
    latest = select(RunbookReview.runbook_id, func.max(RunbookReview.id).label("id")).group_by(RunbookReview.runbook_id)
    if runbook_ids is not None:
        latest = latest.where(RunbookReview.runbook_id.in_(runbook_ids))
    ids = [row.id for row in db.session.execute(latest)]
    if not ids:
        return {}
    return {review.runbook_id: review for review in db.session.scalars(select(RunbookReview)
                                                                      .where(RunbookReview.id.in_(ids)))}


def last_reviewed(runbook_ids: list[int] | None = None) -> dict[int, RunbookReview]:
    """The latest "reviewed" review of each runbook."""
    query = (select(RunbookReview.runbook_id, func.max(RunbookReview.id).label("id"))
             .where(RunbookReview.outcome == ReviewOutcome.REVIEWED.value).group_by(RunbookReview.runbook_id))
    if runbook_ids is not None:
        query = query.where(RunbookReview.runbook_id.in_(runbook_ids))
    ids = [row.id for row in db.session.execute(query)]
    return {review.runbook_id: review for review in db.session.scalars(select(RunbookReview)
                                                                      .where(RunbookReview.id.in_(ids)))} if ids else {}


def retired_ids() -> set[int]:
    return {runbook_id for runbook_id, review in latest_reviews().items()
            if review.outcome == ReviewOutcome.RETIRED.value}


def may_review(user: User, runbook: Runbook) -> bool:
    return user.role in EDITORS or (runbook.owner_id is not None and runbook.owner_id == user.id)


def record_review(runbook: Runbook, *, by: User, outcome: str, note: str = "") -> RunbookReview:
    """Record a review of the runbook's current version and commit; only its owner or the crisis team may."""
    if not may_review(by, runbook):
        raise Forbidden("Only the runbook's owner or the crisis team can review it.")
    try:
        outcome = ReviewOutcome(outcome).value
    except ValueError:
        raise Invalid("Choose reviewed, changes requested or retired.", "outcome") from None
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise Invalid(f"Use at most {NOTE_MAX} characters.", "note")
    if outcome == ReviewOutcome.CHANGES_REQUESTED and not note:
        raise Invalid("Say which changes are needed.", "note")
    if not runbook.content_hash or runbook.removed_at is not None:
        raise Invalid("This runbook's file cannot be read; fix it before reviewing.", "outcome")
    review = RunbookReview(runbook_id=runbook.id, content_hash=runbook.content_hash, outcome=outcome, note=note,
                           by_id=by.id, by_name=by.name, at=utcnow())
    db.session.add(review)
    db.session.commit()
    return review


def reviews_of(runbook: Runbook, limit: int = 20) -> list[RunbookReview]:
    return list(db.session.scalars(select(RunbookReview).where(RunbookReview.runbook_id == runbook.id)
                                   .order_by(RunbookReview.id.desc()).limit(limit)))


# --- acknowledgements ------------------------------------------------------------------------------------------

def readers_of(runbook: Runbook, *, rotations=None, users=None) -> set[int]:
    """Ids of the active people `acknowledge` names: everyone with a named role, every member of a named rotation."""
    names = {name.lower() for name in runbook.names("acknowledge")}
    if not names:
        return set()
    roles = {role for role in Role if role.value in names}
    people = users if users is not None else list(db.session.scalars(select(User).where(User.active.is_(True))))
    found = {user.id for user in people if user.active and user.role in roles}
    for rotation in rotations if rotations is not None else list_rotations():
        if rotation.name.lower() in names:
            found |= {member.user_id for member in rotation.members if member.user is None or member.user.active}
    return found


def acknowledge(runbook: Runbook, *, user: User) -> RunbookAcknowledgement:
    """Record that `user` read the current version and commit; acknowledging twice changes nothing."""
    if not runbook.content_hash or runbook.removed_at is not None or not runbook.valid:
        raise Invalid("This runbook cannot be acknowledged until its file is valid.")
    existing = current_acknowledgement(runbook, user.id)
    if existing is not None:
        return existing
    ack = RunbookAcknowledgement(runbook_id=runbook.id, user_id=user.id, content_hash=runbook.content_hash,
                                 at=utcnow())
    db.session.add(ack)
    try:
        db.session.commit()
    except IntegrityError:  # the same person, twice at once
        db.session.rollback()
        return current_acknowledgement(runbook, user.id)
    return ack


def current_acknowledgement(runbook: Runbook, user_id: int) -> RunbookAcknowledgement | None:
    return db.session.scalar(select(RunbookAcknowledgement).where(
        RunbookAcknowledgement.runbook_id == runbook.id, RunbookAcknowledgement.user_id == user_id,
        RunbookAcknowledgement.content_hash == runbook.content_hash))


def acknowledged_by(runbooks: list[Runbook]) -> set[tuple[int, int]]:
    """(runbook id, user id) of every acknowledgement of each runbook's current version."""
    if not runbooks:
        return set()
    current = {runbook.id: runbook.content_hash for runbook in runbooks}
    rows = db.session.execute(select(RunbookAcknowledgement.runbook_id, RunbookAcknowledgement.user_id,
                                     RunbookAcknowledgement.content_hash)
                              .where(RunbookAcknowledgement.runbook_id.in_(list(current))))
    return {(row.runbook_id, row.user_id) for row in rows if current[row.runbook_id] == row.content_hash}


def acknowledgement_status(runbook: Runbook) -> list[tuple[User, bool]]:
    """Each person who must read the runbook, with whether they acknowledged its current version."""
    readers = readers_of(runbook)
    if not readers:
        return []
    done = acknowledged_by([runbook])
    people = db.session.scalars(select(User).where(User.id.in_(readers)).order_by(User.name))
    return [(person, (runbook.id, person.id) in done) for person in people]
