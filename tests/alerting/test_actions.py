"""Services behind the alert pages: the list's order and filters, the escalation position, paging someone now,
and test messages to a person's contact methods (queued in the outbox, sent by the engine tick)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.alerting import actions, services
from app.alerting.channels.gsm import gsm7_length, to_gsm7
from app.alerting.engine import run_engine_tick
from app.alerting.models import Alert, AlertEvent, OutboundMessage
from app.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from app.oncall import policies
from app.oncall.models import ContactKind, ContactMethod, NotificationRule
from app.timeutil import UTC, utcnow

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday far from any quarter-close window


def reachable(person, kind: str = "sms", address: str = "+14155550100", *, verified: bool = True,
              disabled: bool = False, delay_minutes: int = 0) -> ContactMethod:
    """Give a person a contact method (verified unless told) and a notification rule for it."""
    method = ContactMethod(user_id=person.id, kind=ContactKind(kind), address=address,
                           verified_at=utcnow() if verified else None, disabled_at=utcnow() if disabled else None,
                           disabled_reason="opted out" if disabled else None)
    db.session.add(method)
    db.session.flush()
    db.session.add(NotificationRule(user_id=person.id, contact_method_id=method.id, delay_minutes=delay_minutes))
    db.session.commit()
    return method


def raise_one(summary: str = "ERP billing job missed its run", **fields) -> Alert:
    fields.setdefault("source", "manual")
    alert, _created = services.raise_alert(summary=summary, **fields)
    db.session.commit()
    return alert


def acknowledge(alert: Alert, actor: str = "Priya") -> None:
    services.act_and_commit(alert.id, lambda a: services.acknowledge(a, actor=actor, via="web"))


def resolve(alert: Alert, actor: str = "Priya") -> None:
    services.act_and_commit(alert.id, lambda a: services.resolve(a, actor=actor, via="web"))


@pytest.fixture
def clock_start():
    return NOW


# --- the list ----------------------------------------------------------------------------------------------

def test_the_list_puts_triggered_then_acknowledged_then_resolved_each_newest_first(app, clock):
    made = {}
    for name in ("old resolved", "old acked", "old triggered", "new resolved", "new acked", "new triggered"):
        made[name] = raise_one(name)
        clock.shift(timedelta(minutes=1))
    for name in ("old resolved", "new resolved"):
        resolve(made[name])
    for name in ("old acked", "new acked"):
        acknowledge(made[name])

    listed = [alert.summary for alert in db.session.scalars(actions.alert_query())]

    assert listed == ["new triggered", "old triggered", "new acked", "old acked", "new resolved", "old resolved"]


def test_the_list_filters_by_status_and_severity(app, clock):
    critical = raise_one("disk full", severity="critical")
    low = raise_one("slow report", severity="low")
    done = raise_one("fixed already", severity="low")
    resolve(done)

    def listed(**filters):
        return {alert.id for alert in db.session.scalars(actions.alert_query(**filters))}

    assert listed(status="open") == {critical.id, low.id}
    assert listed(status="resolved") == {done.id}
    assert listed(severity="low") == {low.id, done.id}
    assert listed(status="open", severity="low") == {low.id}


@pytest.mark.parametrize("filters, field", [({"status": "closed"}, "status"), ({"severity": "urgent"}, "severity")])
def test_an_unknown_filter_is_refused_naming_it(app, filters, field):
    with pytest.raises(Invalid) as refused:
        actions.alert_query(**filters)

    assert refused.value.field == field


# --- where escalation stands -------------------------------------------------------------------------------

def test_the_position_reads_step_n_of_m_and_when_the_next_step_is_due(app, clock, make_user):
    first, second = make_user("responder"), make_user("responder")
    reachable(first, address="+14155550101")
    reachable(second, address="+14155550102")
    policy = policies.save_policy(None, name="Billing", repeat=1, steps=[
        {"delay_minutes": 10, "targets": [{"user_id": first.id}]},
        {"delay_minutes": 5, "targets": [{"user_id": second.id}]}])

    alert = raise_one(escalation_policy_id=policy.id)
    position = actions.escalation_position(alert)
    assert (position.policy_name, position.last_paged_step, position.next_step, position.steps) == ("Billing", 1, 2, 2)
    assert (position.round, position.rounds, position.exhausted) == (1, 2, False)
    assert position.next_at == NOW + timedelta(minutes=10)

    clock.shift(timedelta(minutes=10))
    run_engine_tick()
    db.session.expire_all()
    position = actions.escalation_position(db.session.get(Alert, alert.id))
    # Step 2 was the round's last: the next is step 1 of the second (repeat) round.
    assert (position.last_paged_step, position.next_step, position.round) == (2, 1, 2)
    assert position.next_at == NOW + timedelta(minutes=15)


def test_an_alert_without_a_policy_has_nothing_to_escalate(app):
    position = actions.escalation_position(raise_one())

    assert (position.steps, position.next_step, position.exhausted) == (0, None, True)


def test_an_acknowledged_alert_has_no_next_step_due(app, clock, make_user):
    person = make_user("responder")
    reachable(person)
    policy = policies.save_policy(None, name="Billing", steps=[{"delay_minutes": 10,
                                                                 "targets": [{"user_id": person.id}]}] * 2)
    alert = raise_one(escalation_policy_id=policy.id)
    acknowledge(alert)

    assert actions.escalation_position(db.session.get(Alert, alert.id)).next_at is None


# --- paging someone now ------------------------------------------------------------------------------------

def test_paging_a_person_now_pages_them_by_a_one_step_policy_and_commits(app, clock, make_user):
    casey, rowan = make_user("crisis_team", name="Casey"), make_user("responder", name="Rowan")
    sms = reachable(rowan, address="+14155550123")

    alert = actions.page_person_now(summary="  Orders stuck   in EU ", details="Queue at 40k", severity="high",
                                    user_id=rowan.id, created_by=casey)
    db.session.rollback()  # what was committed stays
    alert = db.session.get(Alert, alert.id)

    assert (alert.summary, alert.source, alert.severity) == ("Orders stuck in EU", "manual", "high")
    assert alert.policy_id is None
    assert alert.policy_snapshot == {
        "version": 1, "policy_id": None, "name": "Direct page to Rowan", "repeat": 0, "close_mode": False,
        "close_mode_max_delay": 5, "ack_timeout_minutes": 60,
        "steps": [{"delay_minutes": 5, "targets": [{"user_id": rowan.id, "email": rowan.email, "name": "Rowan"}]}]}
    queued = db.session.scalars(select(OutboundMessage).where(OutboundMessage.alert_id == alert.id)).all()
    assert [(m.contact_method_id, m.status, m.due_at) for m in queued] == [(sms.id, "pending", NOW)]
    kinds = [event.kind for event in db.session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id))]
    assert kinds[:2] == ["triggered", "escalated"]
    assert alert.created_by_id == casey.id


def test_a_direct_page_pages_again_an_hour_after_an_acknowledgement(app, clock, make_user):
    casey, rowan = make_user("crisis_team"), make_user("responder")
    reachable(rowan)
    alert = actions.page_person_now(summary="Orders stuck", user_id=rowan.id, created_by=casey)

    acknowledge(alert)

    assert db.session.get(Alert, alert.id).ack_deadline == NOW + timedelta(minutes=60)


@pytest.mark.parametrize("fields, field", [
    ({"summary": "   "}, "summary"),
    ({"severity": "urgent"}, "severity"),
    ({"user_id": 987654}, "user_id"),
])
def test_paging_a_person_refuses_bad_input_and_writes_nothing(app, make_user, fields, field):
    casey, rowan = make_user("crisis_team"), make_user("responder")
    values = {"summary": "Orders stuck", "severity": "critical", "user_id": rowan.id, **fields}

    with pytest.raises(Invalid) as refused:
        actions.page_person_now(created_by=casey, **values)

    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalars(select(Alert)).all() == []


def test_an_inactive_person_cannot_be_paged(app, make_user):
    casey, gone = make_user("crisis_team"), make_user("responder")
    gone.active = False
    db.session.commit()

    with pytest.raises(Invalid, match="active person"):
        actions.page_person_now(summary="Orders stuck", user_id=gone.id, created_by=casey)


@pytest.mark.parametrize("targets", [{}, {"escalation_policy_id": 1, "user_id": 1}])
def test_page_now_wants_exactly_one_of_a_policy_or_a_person(app, make_user, targets):
    with pytest.raises(Invalid) as refused:
        actions.page_now(summary="Orders stuck", created_by=make_user("crisis_team"), **targets)

    assert refused.value.field == "target"


def test_page_now_with_a_policy_raises_a_manual_alert_that_escalates_by_it(app, make_user):
    casey, rowan = make_user("crisis_team"), make_user("responder")
    reachable(rowan)
    policy = policies.save_policy(None, name="Orders", steps=[{"delay_minutes": 5, "targets": [{"user_id": rowan.id}]}])

    alert = actions.page_now(summary="Orders stuck", escalation_policy_id=policy.id, created_by=casey)
    db.session.rollback()

    alert = db.session.get(Alert, alert.id)
    assert (alert.source, alert.policy_id, alert.policy_snapshot["name"]) == ("manual", policy.id, "Orders")
    assert db.session.scalars(select(OutboundMessage.user_id).where(OutboundMessage.alert_id == alert.id)).all() \
        == [rowan.id]


# --- test messages -----------------------------------------------------------------------------------------

def test_test_messages_go_to_each_usable_method_and_the_engine_sends_them(app, clock, make_user):
    rowan = make_user("responder", name="Rowan")
    sms = reachable(rowan, "sms", "+14155550111")
    email = reachable(rowan, "email", "rowan@example.com")
    reachable(rowan, "voice", "+14155550112", verified=False)
    reachable(rowan, "sms", "+14155550113", disabled=True)

    queued = actions.queue_test_messages(actor=rowan, person=rowan)
    db.session.rollback()

    rows = db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "test")
                              .order_by(OutboundMessage.id)).all()
    assert len(queued) == 2
    assert sorted((m.contact_method_id, m.kind, m.address) for m in rows) == sorted(
        [(sms.id, "sms", "+14155550111"), (email.id, "email", "rowan@example.com")])
    assert {(m.alert_id, m.status, m.priority, m.due_at, m.user_id, m.channel) for m in rows} == \
        {(None, "pending", 1, NOW, rowan.id, "")}

    result = run_engine_tick()

    assert result["sent"] == 2
    db.session.expire_all()
    assert {(m.status, m.channel, m.attempts) for m in rows} == {("sent", "console", 1)}


def test_a_test_sms_is_short_gsm7_and_a_test_email_has_a_subject(app, make_user):
    rowan = make_user("responder", name="Álvaro Rowan")
    reachable(rowan, "sms", "+14155550111")
    reachable(rowan, "email", "rowan@example.com")
    casey = make_user("crisis_team", name="Casey")

    messages = {m.kind: m for m in actions.queue_test_messages(actor=casey, person=rowan)}

    sms = messages["sms"]
    assert to_gsm7(sms.body) == sms.body and gsm7_length(sms.body) <= 160
    assert "Alvaro Rowan" in sms.body and "Casey" in sms.body
    assert messages["email"].subject == "Quarterdeck test message"
    assert "Álvaro Rowan" in messages["email"].body and "Quarterdeck test message" not in messages["email"].body


def test_a_test_sms_stays_one_segment_however_long_the_names(app, make_user):
    rowan = make_user("responder", name="R" * 120)
    reachable(rowan)

    (sms,) = actions.queue_test_messages(actor=make_user("crisis_team", name="C" * 120), person=rowan)

    assert gsm7_length(sms.body) <= 160


def test_someone_else_may_not_test_a_persons_methods_unless_on_the_crisis_team(app, make_user):
    rowan, other = make_user("responder"), make_user("responder")
    reachable(rowan)

    with pytest.raises(Forbidden):
        actions.queue_test_messages(actor=other, person=rowan)
    assert len(actions.queue_test_messages(actor=make_user("crisis_team"), person=rowan)) == 1


def test_a_person_without_a_usable_method_is_told_so(app, make_user):
    rowan = make_user("responder", name="Rowan")
    reachable(rowan, verified=False)

    with pytest.raises(Invalid, match="Rowan has no verified, enabled contact method"):
        actions.queue_test_messages(actor=rowan, person=rowan)
    assert db.session.scalars(select(OutboundMessage)).all() == []


def test_a_second_batch_within_a_minute_is_refused_and_allowed_after(app, clock, make_user):
    rowan = make_user("responder")
    reachable(rowan)
    actions.queue_test_messages(actor=rowan, person=rowan)

    clock.shift(timedelta(seconds=30))
    with pytest.raises(Conflict):
        actions.queue_test_messages(actor=rowan, person=rowan)

    clock.shift(timedelta(seconds=31))
    assert len(actions.queue_test_messages(actor=rowan, person=rowan)) == 1
