"""The engine's own rules: ordering, race-safe claims, stale claims, repeats, gaps, and the self-check."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.alerting import outbox
from app.alerting.engine import _each_alert
from app.alerting.escalation import run_step
from app.alerting.health import ENGINE_HEARTBEAT, check_paging_engine, paging_health
from app.alerting.models import Alert, AlertEvent, MessageStatus, OutboundMessage
from app.alerting.services import act_and_commit, acknowledge, raise_alert
from app.errors import Invalid
from app.extensions import db
from app.oncall import policies
from app.system.services import record_heartbeat
from app.timeutil import utcnow
from tests.alerting.pager import give_methods, policy_for

ALICE, BOB = "+14155550101", "+14155550102"


def test_a_new_alerts_first_page_goes_before_queued_updates(phones, make_user, app):
    app.config["THROTTLE_SMS"] = (1, 15)
    alice = make_user("responder", name="Alice")
    give_methods(alice, ("sms", ALICE, 0), ("email", "alice@example.com", 0))
    policy = policy_for(([alice], 5))
    old = phones.trigger("Old alert", escalation_policy_id=policy.id, dedup_key="old")
    # The old alert's re-page (a queued update) and a new alert's first page are due together.
    db.session.execute(update(OutboundMessage).where(OutboundMessage.alert_id == old.id)
                       .values(priority=1, due_at=utcnow()))
    db.session.commit()
    phones.trigger("New alert", escalation_policy_id=policy.id, dedup_key="new")
    app.config["ENGINE_SEND_CONCURRENCY"] = 1

    ids = outbox.claim_due(utcnow(), "test", 100)

    first = db.session.get(OutboundMessage, ids[0])
    assert first.alert.summary == "New alert" and first.priority == 0


def test_two_claims_never_take_the_same_message(app, make_user):
    for number in range(5):
        person = make_user("responder", name=f"Person {number}")
        give_methods(person, ("sms", f"+1415555020{number}", 0))
        raise_alert(summary=f"Alert {number}", source="api", escalation_policy_id=policy_for(
            ([person], 5), name=f"P{number}").id)
    db.session.commit()

    first = outbox.claim_due(utcnow(), "one", 3)
    second = outbox.claim_due(utcnow(), "two", 100)

    assert len(first) == 3 and len(second) == 2 and not set(first) & set(second)
    assert outbox.claim_due(utcnow(), "three", 100) == []


def test_every_due_page_for_one_phone_is_claimed_with_the_first(app, make_user):
    alice = make_user("responder", name="Alice")
    give_methods(alice, ("sms", ALICE, 0))
    for number in range(5):
        raise_alert(summary=f"Alert {number}", source="api", escalation_policy_id=policy_for(
            ([alice], 5), name=f"P{number}").id)
    db.session.commit()

    first = outbox.claim_due(utcnow(), "one", 1)  # asked for one: the phone's other four travel with it

    assert len(first) == 5 and outbox.claim_due(utcnow(), "two", 100) == []


def test_a_claim_left_by_a_dead_process_is_sent_again_once_its_lease_runs_out(phones, make_user):
    alice = make_user("responder", name="Alice")
    give_methods(alice, ("sms", ALICE, 0))
    phones.trigger(escalation_policy_id=policy_for(([alice], 60)).id)
    [claimed] = outbox.claim_due(utcnow(), "dead-process", 10)  # claimed, then the process died
    assert db.session.get(OutboundMessage, claimed).lease_until == utcnow() + timedelta(seconds=60)

    phones.wait(seconds=59)
    phones.expect_nothing()
    phones.wait(seconds=2)  # the lease ran out: the next pass frees it and sends it

    phones.expect_sms(ALICE, "QD alert 1")
    assert db.session.get(OutboundMessage, claimed).status == MessageStatus.SENT.value


def test_a_policy_runs_again_as_many_times_as_it_says_then_stops(phones, make_user):
    alice = make_user("responder", name="Alice")
    give_methods(alice, ("sms", ALICE, 0))
    alert = phones.trigger(escalation_policy_id=policy_for(([alice], 10), repeat=1).id)
    phones.tick()
    phones.expect_sms(ALICE, "QD alert 1:")

    phones.wait(minutes=10)
    phones.expect_sms(ALICE, "QD alert 1:")  # the second round
    phones.wait(minutes=60)

    phones.expect_nothing()
    assert db.session.get(Alert, alert.id).escalation_exhausted is True


def test_a_step_that_reaches_nobody_goes_on_to_the_next_at_once(phones, make_user):
    nobody = make_user("responder", name="Nobody")  # no contact methods
    bob = make_user("responder", name="Bob")
    give_methods(bob, ("sms", BOB, 0))
    alert = phones.trigger(escalation_policy_id=policy_for(([nobody], 30), ([bob], 30)).id)

    phones.tick()

    phones.expect_sms(BOB, "QD alert 1:")
    texts = [e.text for e in db.session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id))]
    assert any("Nobody has no usable contact method" in text for text in texts)


def test_an_alert_without_a_policy_or_a_fallback_says_nobody_is_paged_and_health_names_it(phones, client):
    alert = phones.trigger(source="api")
    phones.tick()
    texts = [e.text for e in db.session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id))]
    assert "No escalation policy and no fallback policy: nobody is paged." in texts
    record_heartbeat()
    record_heartbeat(ENGINE_HEARTBEAT)

    response = client.get("/healthz")

    assert response.status_code == 503
    [unpaged] = response.get_json()["paging"]["unpaged_alerts"]
    assert (unpaged["id"], unpaged["reason"]) == (alert.id, "no escalation policy and no fallback policy")


def test_alerts_are_also_sent_by_email(phones, smtp_sink, make_user):
    alice = make_user("responder", name="Alice")
    give_methods(alice, ("email", "alice@example.com", 0))
    alert = phones.trigger(escalation_policy_id=policy_for(([alice], 30)).id, details="Exit code 3")

    phones.tick()

    [mail] = smtp_sink.wait_for(1)
    assert mail.subject == "[CRITICAL] ERP billing job missed its run"
    assert "Exit code 3" in mail.body and f"/alerts/{alert.id}" in mail.body


def test_an_acknowledgement_racing_the_engine_is_retried_not_lost(phones, make_user):
    alice = make_user("responder", name="Alice")
    give_methods(alice, ("sms", ALICE, 0))
    alert = phones.trigger(escalation_policy_id=policy_for(([alice], 10), ([alice], 10)).id)
    phones.tick()
    phones.expect_sms(ALICE)
    attempts = []

    def ack_while_the_engine_moves(loaded: Alert) -> bool:
        attempts.append(loaded.version)
        if len(attempts) == 1:  # the alert's row changes between our read and our write
            db.session.execute(update(Alert).where(Alert.id == loaded.id).values(version=Alert.version + 1)
                               .execution_options(synchronize_session=False))
        return acknowledge(loaded, actor="Alice", via="web")

    _alert, changed = act_and_commit(alert.id, ack_while_the_engine_moves)

    assert changed and len(attempts) == 2  # the first write was refused, the retry read afresh
    assert db.session.get(Alert, alert.id).status == "acknowledged"


def test_a_step_another_engine_ran_first_is_rolled_back_with_its_messages(phones, make_user):
    alice = make_user("responder", name="Alice")
    give_methods(alice, ("sms", ALICE, 0))
    alert = phones.trigger(escalation_policy_id=policy_for(([alice], 10), ([alice], 10)).id)
    phones.tick()
    phones.expect_sms(ALICE)
    phones.traveller.shift(timedelta(minutes=10))
    before = db.session.scalar(select(func.count()).select_from(OutboundMessage))

    def race(loaded: Alert) -> bool:
        # Between our read and our write another engine commits its own change to the alert.
        db.session.execute(update(Alert).where(Alert.id == loaded.id).values(version=Alert.version + 1)
                           .execution_options(synchronize_session=False))
        run_step(loaded, utcnow())
        return True

    assert _each_alert([alert.id], race) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboundMessage)) == before
    assert db.session.get(Alert, alert.id).escalation_step == 1  # untouched by the loser


def test_the_acknowledgement_timeout_is_validated_on_save(app, make_user):
    alice = make_user("responder")
    with pytest.raises(Invalid) as refused:
        policies.save_policy(None, name="P", ack_timeout_minutes=1441,
                             steps=[{"delay_minutes": 5, "targets": [{"user_id": alice.id}]}])
    assert refused.value.field == "ack_timeout_minutes"


def test_the_self_check_raises_and_warns_when_the_engine_stops_ticking(phones, smtp_sink, make_user, client):
    make_user("admin", name="Ada Admin", email="ada@example.com")
    record_heartbeat()
    record_heartbeat(ENGINE_HEARTBEAT)
    assert paging_health().ok and client.get("/healthz").status_code == 200

    phones.traveller.shift(timedelta(minutes=2))
    record_heartbeat()  # the scheduler lives, the engine tick does not
    result = check_paging_engine()

    assert result["ok"] is False and result["emails"] == 1
    [mail] = smtp_sink.wait_for(1)
    assert mail.rcpt_tos == ["ada@example.com"] and "paging engine last ran 120 s ago" in mail.body
    assert db.session.scalar(select(Alert).where(Alert.dedup_key == "system:paging-engine-unhealthy")) is not None
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["paging"]["ok"] is False

    assert check_paging_engine()["emails"] == 0  # not again within 30 minutes
    record_heartbeat(ENGINE_HEARTBEAT)
    assert check_paging_engine() == {"ok": True}
    assert db.session.scalar(select(Alert.status).where(Alert.dedup_key == "system:paging-engine-unhealthy")) \
        == "resolved"


def test_a_triggered_alert_whose_next_step_is_long_overdue_is_unhealthy(phones, make_user):
    alice = make_user("responder", name="Alice")
    give_methods(alice, ("sms", ALICE, 0))
    phones.trigger(escalation_policy_id=policy_for(([alice], 10), ([alice], 10)).id)
    phones.tick()
    phones.expect_sms(ALICE)

    phones.traveller.shift(timedelta(minutes=12))  # step 2 was due two minutes ago and nothing ran it
    record_heartbeat(ENGINE_HEARTBEAT)

    assert paging_health().problems == ["1 triggered alert(s) have no next escalation step due."]
