"""Status updates and their cadence: who gets them and how, the overdue reminder, and what is refused."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.alerting.models import OutboundMessage
from app.errors import Invalid
from app.extensions import db
from app.incidents import review, scheduled, subscriptions, updates
from app.incidents.models import Incident, IncidentEvent, IncidentMessage, IncidentUpdate
from tests.incidents.conftest import NOW, reach


def outbox(purpose: str) -> list[OutboundMessage]:
    return list(db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == purpose)
                                   .order_by(OutboundMessage.id)))


def test_an_update_goes_to_every_subscriber_but_its_author_by_email(app, clock, people, declare):
    incident = declare(severity="SEV2")
    subscriptions.set_subscribed(incident, people["rowan"], True)

    update = updates.post_update(incident.id, status="identified", message="Bad config on the ERP node",
                                 author=people["rowan"])

    sent = outbox("incident_update")
    assert sorted(message.address for message in sent) == ["ellis@example.com", "emery@example.com"]
    assert {message.kind for message in sent} == {"email"}
    assert sent[0].subject == f"INC-{incident.id} SEV2 Identified: Billing run failed"
    assert "Bad config on the ERP node" in sent[0].body
    assert update.recipients == 2
    incident = db.session.get(Incident, incident.id)
    assert (incident.status, incident.last_update_at) == ("identified", NOW)
    kinds = db.session.scalars(select(IncidentEvent.kind).order_by(IncidentEvent.id)).all()
    assert kinds[-2:] == ["status", "update"]


def test_a_sev1_update_is_texted_to_whoever_opted_in_and_fits_one_segment(app, clock, people, declare):
    reach(people["emery"], "sms", "+14155550150", rule=False)
    subscriptions.set_sms_for_sev1(people["emery"], True)
    incident = declare(severity="SEV1", title="ERP down " + "x" * 150)

    updates.post_update(incident.id, status="investigating", message="Failing over to the DR site " * 10,
                        author=people["rowan"])

    by_address = {message.address: message for message in outbox("incident_update")}
    assert set(by_address) == {"+14155550150", "ellis@example.com"}
    text = by_address["+14155550150"].body
    assert text.startswith(f"QD INC-{incident.id} SEV1 Investigating: ERP down") and len(text) <= 160
    assert text.endswith(f"/i/{incident.id}")


def test_a_subscriber_nobody_can_reach_gets_a_failed_row_saying_why(app, clock, people, declare, make_user):
    quiet = make_user("executive", name="Quiet")
    incident = declare(severity="SEV2")

    updates.post_update(incident.id, status="identified", message="Found it", author=people["rowan"])

    failed = [m for m in outbox("incident_update") if m.user_id == quiet.id]
    assert [(m.status, m.address) for m in failed] == [("failed", "(no usable method)")]
    assert "No verified, enabled email method" in failed[0].last_error


def test_someone_who_unsubscribed_is_not_subscribed_again_when_the_severity_rises(app, clock, people, declare):
    from app.incidents import services
    incident = declare(severity="SEV2")
    subscriptions.set_subscribed(incident, people["emery"], False)
    services.change_severity(incident, severity="SEV1", actor=people["rowan"])

    assert [person.name for person in subscriptions.subscribers(incident)] == ["Ellis"]


@pytest.mark.parametrize("status, message, field", [
    ("resolved", "done", "status"), ("bogus", "x", "status"), ("identified", "   ", "message"),
    ("identified", "x" * 4001, "message"),
])
def test_a_bad_update_is_refused_naming_the_field(app, clock, people, declare, status, message, field):
    incident = declare()
    with pytest.raises(Invalid) as refused:
        updates.post_update(incident.id, status=status, message=message, author=people["rowan"])
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(IncidentUpdate)) == 0


def test_a_resolved_or_closed_incident_takes_no_more_updates(app, clock, people, declare):
    incident = declare()
    review.resolve(incident.id, resolution="Restarted", actor=people["rowan"])
    with pytest.raises(Invalid, match="resolved"):
        updates.post_update(incident.id, status="monitoring", message="still fine", author=people["rowan"])
    review.waive_review(db.session.get(Incident, incident.id), reason="Duplicate of INC-1", actor=people["casey"])
    with pytest.raises(Invalid, match="closed"):
        updates.post_update(incident.id, status="monitoring", message="still fine", author=people["rowan"])


def test_two_updates_posted_at_the_same_moment_both_land_in_order(app, clock, people, declare):
    incident = declare()
    updates.post_update(incident.id, status="identified", message="first", author=people["rowan"])
    updates.post_update(incident.id, status="monitoring", message="second", author=people["casey"])

    assert [u.message for u in reversed(updates.updates_of(incident))] == ["first", "second"]
    assert db.session.get(Incident, incident.id).status == "monitoring"


def test_two_updates_racing_from_two_connections_both_land(app, people, declare, backend):
    if backend != "postgresql":
        pytest.skip("one SQLite in-memory database has a single connection")
    incident = declare()
    start = threading.Barrier(2)
    errors = []

    def post(message: str, author_id: int) -> None:
        with app.app_context():
            try:
                author = db.session.get(type(people["rowan"]), author_id)
                start.wait(timeout=10)
                updates.post_update(incident.id, status="identified", message=message, author=author)
            except Exception as error:  # noqa: BLE001  (reported below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=post, args=(f"from {name}", people[name].id)) for name in ("rowan", "casey")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    db.session.expire_all()
    assert sorted(u.message for u in updates.updates_of(incident)) == ["from casey", "from rowan"]


def test_overdue_minutes_count_from_the_last_update_or_the_declaration(app, clock, people, declare):
    incident = declare(severity="SEV2")  # every 60 minutes
    assert updates.overdue_minutes(incident, NOW + timedelta(minutes=60)) is None
    assert updates.overdue_minutes(incident, NOW + timedelta(minutes=75)) == 15
    clock.shift(timedelta(minutes=50))
    updates.post_update(incident.id, status="identified", message="x", author=people["rowan"])
    assert updates.overdue_minutes(db.session.get(Incident, incident.id), NOW + timedelta(minutes=75)) is None
    assert updates.overdue_minutes(declare(severity="SEV4"), NOW + timedelta(days=3)) is None  # no cadence


def test_the_commander_is_reminded_once_per_interval_without_an_update(app, clock, people, declare):
    reach(people["rowan"], "sms", "+14155550101", rule=False)
    incident = declare(severity="SEV2")

    clock.shift(timedelta(minutes=59))
    assert scheduled.remind_overdue_updates()["reminded"] == 0
    clock.shift(timedelta(minutes=2))
    assert scheduled.remind_overdue_updates()["reminded"] == 1
    clock.shift(timedelta(minutes=30))
    assert scheduled.remind_overdue_updates() == {"reminded": 0, "already": 1}  # same interval: once
    clock.shift(timedelta(minutes=30))
    assert scheduled.remind_overdue_updates()["reminded"] == 1  # a second interval passed with no update

    reminders = outbox("incident_update_overdue")
    assert [m.address for m in reminders] == ["+14155550101", "+14155550101"]
    assert reminders[0].body.startswith(f"QD INC-{incident.id}: update overdue by 1 min (SEV2: every 60 min).")
    assert db.session.scalar(select(func.count()).select_from(IncidentMessage)) == 2


def test_a_second_scheduler_sends_no_second_reminder(app, clock, people, declare):
    incident = declare(severity="SEV1")
    clock.shift(timedelta(minutes=31))
    first = scheduled.remind_overdue_updates()
    # Another scheduler that had already read the incident tries the same reminder: the unique key refuses it.
    assert scheduled._send(incident, "update_overdue", scheduled.interval_key(incident, NOW + timedelta(minutes=31))[0],
                           late="1 min", interval=30) is False
    assert first["reminded"] == 1 and len(outbox("incident_update_overdue")) == 1
