"""Review reminders to owners through the outbox: 14 days before the next review and when overdue, once each."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from app.alerting.models import MessageStatus, OutboundMessage
from app.extensions import db
from app.oncall.models import ContactKind, ContactMethod
from app.runbooks.models import RunbookReminder
from app.runbooks.reviews import record_review
from app.runbooks.scheduled import remind_review_owners
from app.runbooks.services import get_runbook
from app.timeutil import utcnow
from tests.conftest import drain_outbox
from tests.runbooks.support import write


def reminders() -> list[OutboundMessage]:
    return list(db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "runbook_review")
                                   .order_by(OutboundMessage.id)))


def at(day: int, month: int = 3, year: int = 2026):
    return time_machine.travel(datetime(year, month, day, 12, tzinfo=UTC), tick=False)


@pytest.fixture
def reachable(owner):
    db.session.add(ContactMethod(user_id=owner.id, kind=ContactKind.EMAIL, address="olive@example.com",
                                 verified_at=utcnow()))
    db.session.commit()
    return owner


def test_the_owner_is_reminded_once_before_and_once_when_overdue(folder, reachable, sync):
    write(folder, "restart.md", owner=reachable.email, review_every="30d", reviewed="2026-03-01")  # due 31 March
    with at(10):
        sync()
        assert remind_review_owners()["queued"] == 0  # 21 days ahead: not yet
    with at(17):
        assert remind_review_owners()["queued"] == 1  # 14 days ahead
        assert remind_review_owners()["queued"] == 0  # the same day again: claimed already
    with at(25):
        assert remind_review_owners()["queued"] == 0
        assert drain_outbox() == 1
    with at(1, 4):
        assert remind_review_owners()["queued"] == 1  # overdue
        assert remind_review_owners()["queued"] == 0
        drain_outbox()
    sent = reminders()
    assert [message.subject for message in sent] == ["Runbook review due on 2026-03-31: Restart",
                                                     "Runbook review overdue: Restart"]
    assert all(message.status == MessageStatus.SENT.value for message in sent)
    assert "/runbooks/restart" in sent[1].body


def test_a_review_moves_the_due_date_and_the_reminders_start_afresh(folder, reachable, sync):
    write(folder, "restart.md", owner=reachable.email, review_every="30d", reviewed="2026-03-01")
    with at(2, 4):
        sync()
        assert remind_review_owners()["queued"] == 1
        record_review(get_runbook("restart"), by=reachable, outcome="reviewed")  # next review 2 May
        assert remind_review_owners()["queued"] == 0
    with at(20, 4):
        assert remind_review_owners()["queued"] == 1
    assert db.session.scalar(select(RunbookReminder.due_on).order_by(RunbookReminder.id.desc())).isoformat() == \
        "2026-05-02"


def test_an_owner_without_a_verified_method_is_recorded_not_skipped(folder, owner, sync):
    write(folder, "restart.md", owner=owner.email, review_every="30d", reviewed="2026-01-01")
    with at(1):
        sync()
        assert remind_review_owners() == {"queued": 0, "no_owner": 0, "no_method": 1}
        assert remind_review_owners()["no_method"] == 0
    assert reminders() == []
