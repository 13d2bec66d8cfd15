"""Paging as the on-call person lives it: a page arrives, they answer, the next one goes (or does not)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.alerting.models import Alert, AlertEvent, MessageStatus, OutboundMessage
from app.extensions import db
from app.oncall.models import ContactMethod
from tests.alerting.pager import give_methods, policy_for

ALICE, BOB = "+14155550101", "+14155550102"


@pytest.fixture
def people(make_user):
    alice = make_user("responder", name="Alice")
    bob = make_user("responder", name="Bob")
    give_methods(alice, ("sms", ALICE, 0))
    give_methods(bob, ("sms", BOB, 0))
    return alice, bob


def timeline(alert_id: int) -> list[str]:
    return [event.kind for event in db.session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id)
                                                       .order_by(AlertEvent.id))]


def test_the_on_call_is_texted_and_a_reply_acknowledges(phones, people):
    alice, bob = people
    policy = policy_for(([alice], 10), ([bob], 10))

    alert = phones.trigger(escalation_policy_id=policy.id)
    phones.tick()

    phones.expect_sms(ALICE, "QD alert 1: ERP billing job missed its run. Reply 1a to ack, 1r to resolve. http://127.0.0.1:5000/a/")
    assert phones.reply(ALICE, "1a") == "Acknowledged alert 1: ERP billing job missed its run. Reply 1r to resolve."
    phones.wait(minutes=15)  # past step 1's wait: nothing more goes out once acknowledged
    assert db.session.get(Alert, alert.id).status == "acknowledged"
    assert timeline(alert.id)[:4] == ["triggered", "escalated", "notified", "acknowledged"]


def test_without_an_answer_it_escalates_to_step_two_after_the_wait(phones, people):
    alice, bob = people
    policy = policy_for(([alice], 10), ([bob], 10))
    phones.trigger(escalation_policy_id=policy.id)
    phones.tick()
    phones.expect_sms(ALICE, "QD alert 1:")

    phones.wait(minutes=9, seconds=59)
    phones.expect_nothing()
    phones.wait(seconds=1)

    phones.expect_sms(BOB, "QD alert 1:")


def test_a_second_alert_with_the_same_open_key_adds_to_the_first_without_paging(phones, people):
    alice, bob = people
    policy = policy_for(([alice], 10))
    first = phones.trigger(escalation_policy_id=policy.id, dedup_key="job:billing")
    phones.tick()
    phones.expect_sms(ALICE)

    second = phones.trigger("ERP billing job missed again", escalation_policy_id=policy.id, dedup_key="job:billing")
    phones.tick()

    assert second.id == first.id and db.session.get(Alert, first.id).merged_count == 1
    phones.expect_nothing()


def test_voice_follows_sms_per_the_persons_rules_and_a_key_press_acknowledges(phones, make_user):
    carol = make_user("responder", name="Carol")
    give_methods(carol, ("sms", "+14155550103", 0), ("voice", "+14155550103", 2))
    alert = phones.trigger(escalation_policy_id=policy_for(([carol], 30)).id)
    phones.tick()
    phones.expect_sms("+14155550103")

    phones.wait(minutes=2)
    call = phones.expect_call("+14155550103")
    twiml = phones.answer_call(call)
    assert twiml.count("ERP billing job missed its run") == 2 and "Press 4 to acknowledge" in twiml

    assert "Acknowledged" in phones.answer_call(call, digits="4")
    assert db.session.get(Alert, alert.id).acknowledged_by == "Carol"


def test_an_acknowledged_alert_not_resolved_in_time_pages_again(phones, people):
    alice, bob = people
    policy = policy_for(([alice], 10), ack_timeout_minutes=30)
    alert = phones.trigger(escalation_policy_id=policy.id)
    phones.tick()
    phones.expect_sms(ALICE, "QD alert 1:")
    phones.reply(ALICE, "1a")

    phones.wait(minutes=29)
    phones.expect_nothing()
    phones.wait(minutes=1)

    phones.expect_sms(ALICE, "QD alert 1:")
    assert db.session.get(Alert, alert.id).status == "triggered"
    assert "reopened" in timeline(alert.id)


def test_after_downtime_pending_pages_are_bundled_and_resolved_ones_dropped(phones, people):
    alice, bob = people
    policy = policy_for(([alice], 10))
    alerts = [phones.trigger(f"Job {name} missed its run", escalation_policy_id=policy.id, dedup_key=name)
              for name in ("billing", "bookings", "fx-rates", "gl-posting")]
    # The scheduler is down while all four are raised; one is resolved before it comes back.
    from app.alerting.services import act_and_commit, resolve
    act_and_commit(alerts[3].id, lambda a: resolve(a, actor="Bob", via="web"))

    phones.wait(minutes=3)

    sms = phones.expect_sms(ALICE, "QD 3 alerts: ")
    assert "Job fx-rates" in sms.body and "Job gl-posting" not in sms.body
    rows = db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "alert")).all()
    assert sorted(row.status for row in rows) == ["bundled", "bundled", "dropped", "sent"]


def test_an_invalid_number_fails_over_to_the_next_method_at_once(phones, make_user):
    dave = make_user("responder", name="Dave")
    methods = give_methods(dave, ("sms", "+14155550104", 0), ("voice", "+14155550199", 5))
    phones.twilio.fail_for("+14155550104", status=400, code=21211)
    alert = phones.trigger(escalation_policy_id=policy_for(([dave], 30)).id)

    phones.tick()  # the SMS is refused for good: the call goes out on the next tick, not in 5 minutes
    phones.tick()

    phones.expect_call("+14155550199")
    method = db.session.get(ContactMethod, methods["sms"].id)
    assert method.disabled_at is not None and "21211" in method.disabled_reason
    assert {"failed", "failover"} <= set(timeline(alert.id))


def test_when_all_of_a_persons_methods_fail_the_next_step_is_paged_at_once(phones, people):
    alice, bob = people
    phones.twilio.fail_for(ALICE, status=400, code=21211)
    phones.trigger(escalation_policy_id=policy_for(([alice], 30), ([bob], 30)).id)

    phones.tick()
    phones.tick()

    phones.expect_sms(BOB, "QD alert 1:")  # Alice's only number was refused


def test_a_retryable_failure_backs_off_and_is_sent_once_it_works(phones, people):
    alice, _bob = people
    phones.twilio.fail_next(status=500)
    phones.trigger(escalation_policy_id=policy_for(([alice], 30)).id)
    phones.tick()  # answered 500: nothing was accepted
    message = db.session.scalar(select(OutboundMessage))
    assert (message.status, message.attempts) == ("pending", 1)

    phones.wait(seconds=9)
    phones.expect_nothing()
    phones.wait(seconds=1)

    phones.expect_sms(ALICE, "QD alert 1:")
    assert db.session.get(OutboundMessage, message.id).status == "sent"


def test_a_message_that_keeps_failing_is_tried_the_allowed_times_then_the_next_method_is_used(phones, make_user, app):
    app.config["SEND_MAX_ATTEMPTS"] = 2
    ivy = make_user("responder", name="Ivy")
    methods = give_methods(ivy, ("sms", "+14155550110", 0), ("voice", "+14155550111", 10))
    phones.twilio.fail_for("+14155550110", status=500, code=None)  # retryable, every time
    alert = phones.trigger(escalation_policy_id=policy_for(([ivy], 30)).id)

    phones.tick()  # attempt 1 fails: retried in 10 s
    phones.wait(seconds=10)  # attempt 2 fails: that was the last; the call goes now, not at minute 10

    phones.expect_call("+14155550111")
    phones.wait(minutes=5)
    sms_tries = [r for r in phones.twilio.requests if r.kind == "message"]
    assert [r.status_code for r in sms_tries] == [500, 500]  # never a third try
    sms = db.session.scalar(select(OutboundMessage).where(OutboundMessage.contact_method_id == methods["sms"].id))
    assert (sms.status, sms.attempts, sms.permanent_failure) == ("failed", 2, False)
    assert db.session.get(ContactMethod, methods["sms"].id).disabled_at is None  # the number itself is fine
    texts = [event.text for event in db.session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id))]
    assert any("(attempt 1 of 2)" in text and "retrying in 10 s" in text for text in texts)
    assert any(text.startswith("SMS to +14155550110 failed after 2 attempts") for text in texts)
    assert "Moving to Ivy's voice +14155550111 now." in texts


def test_stop_turns_sms_off_for_that_number_and_start_turns_it_on(phones, make_user):
    erin = make_user("responder", name="Erin")
    give_methods(erin, ("sms", "+14155550105", 0), ("email", "erin@example.com", 0))
    policy = policy_for(([erin], 30))

    assert phones.reply("+14155550105", "STOP") == ""
    phones.trigger(escalation_policy_id=policy.id, dedup_key="one")
    phones.tick()
    phones.expect_nothing()  # the email went to the console channel; no SMS to a number that said STOP

    assert "on again" in phones.reply("+14155550105", "start")
    phones.trigger("Second", escalation_policy_id=policy.id, dedup_key="two")
    phones.tick()
    phones.expect_sms("+14155550105", "Second")


def test_the_fourth_sms_in_fifteen_minutes_waits_when_the_limit_is_three(phones, people, app):
    app.config["THROTTLE_SMS"] = (3, 15)
    alice, _bob = people
    policy = policy_for(([alice], 60))
    for number in range(1, 5):
        phones.trigger(f"Alert {number}", escalation_policy_id=policy.id, dedup_key=str(number))
        phones.wait(minutes=1)
    for number in range(1, 4):
        phones.expect_sms(ALICE, f"Alert {number}")
    phones.expect_nothing()

    phones.wait(minutes=11)  # the first SMS went at minute 1: room again at minute 16
    phones.expect_nothing()
    phones.wait(minutes=1)

    phones.expect_sms(ALICE, "Alert 4")


def test_seven_pages_due_together_are_one_sms_that_the_throttle_counts_once(phones, people, app):
    app.config["THROTTLE_SMS"] = (5, 15)
    alice, _bob = people
    policy = policy_for(([alice], 60))
    for number in range(1, 8):  # the scheduler was down while seven jobs missed their runs
        phones.trigger(f"Job {number} missed", escalation_policy_id=policy.id, dedup_key=str(number))

    phones.wait(minutes=1)

    phones.expect_sms(ALICE, "QD 7 alerts: ")
    phones.expect_nothing()
    rows = db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "alert")).all()
    assert sorted(row.status for row in rows) == ["bundled"] * 6 + ["sent"]


def test_pages_held_back_by_the_throttle_go_out_together_when_there_is_room(phones, people, app):
    app.config["THROTTLE_SMS"] = (1, 15)
    alice, _bob = people
    policy = policy_for(([alice], 60))
    phones.trigger("Job 1 missed", escalation_policy_id=policy.id, dedup_key="1")
    phones.wait(minutes=1)
    phones.expect_sms(ALICE, "Job 1 missed")
    for number in (2, 3):
        phones.trigger(f"Job {number} missed", escalation_policy_id=policy.id, dedup_key=str(number))

    phones.wait(minutes=1)
    phones.expect_nothing()
    phones.wait(minutes=14)  # the first SMS went at minute 1: room again at minute 16

    phones.expect_sms(ALICE, "QD 2 alerts: ")
    assert "throttled" in timeline(db.session.scalar(select(Alert.id).where(Alert.dedup_key == "3")))


def test_in_the_close_window_close_mode_calls_first(phones, make_user, app):
    app.config.update(CLOSE_WINDOW_START_BD=-30, CLOSE_WINDOW_END_BD=30)  # T0 lies inside the window
    fay = make_user("responder", name="Fay")
    give_methods(fay, ("sms", "+14155550106", 0), ("voice", "+14155550106", 5))
    phones.trigger(escalation_policy_id=policy_for(([fay], 30), close_mode=True).id)

    phones.tick()

    assert {(r.kind, r.to) for r in phones._unseen()} == {("message", "+14155550106"), ("call", "+14155550106")}
    phones.seen += 2


def test_outside_the_close_window_close_mode_changes_nothing(phones, make_user, app):
    app.config.update(CLOSE_WINDOW_START_BD=5, CLOSE_WINDOW_END_BD=5)
    fay = make_user("responder", name="Fay")
    give_methods(fay, ("sms", "+14155550106", 0), ("voice", "+14155550106", 5))
    phones.trigger(escalation_policy_id=policy_for(([fay], 30), close_mode=True).id)

    phones.tick()

    phones.expect_sms("+14155550106")


def test_delivery_reports_only_move_forward(phones, people):
    alice, _bob = people
    phones.trigger(escalation_policy_id=policy_for(([alice], 30)).id)
    phones.tick()
    sms = phones.expect_sms(ALICE)

    assert phones.report(sms, "delivered") == 204
    assert phones.report(sms, "sent") == 204  # late and out of order: ignored

    message = db.session.scalar(select(OutboundMessage))
    assert (message.status, message.delivery_status) == (MessageStatus.DELIVERED.value, "delivered")


def test_an_undelivered_report_with_a_permanent_code_disables_the_number_and_fails_over(phones, make_user):
    gil = make_user("responder", name="Gil")
    methods = give_methods(gil, ("sms", "+14155550107", 0), ("voice", "+14155550108", 10))
    phones.trigger(escalation_policy_id=policy_for(([gil], 30)).id)
    phones.tick()
    sms = phones.expect_sms("+14155550107")

    phones.report(sms, "undelivered", error_code=30003)
    phones.tick()

    phones.expect_call("+14155550108")
    assert db.session.get(ContactMethod, methods["sms"].id).disabled_at is not None


def test_voicemail_does_not_acknowledge(phones, make_user):
    hal = make_user("responder", name="Hal")
    give_methods(hal, ("voice", "+14155550109", 0))
    alert = phones.trigger(escalation_policy_id=policy_for(([hal], 30)).id)
    phones.tick()
    call = phones.expect_call("+14155550109")

    twiml = phones.answer_call(call, answered_by="machine_start")

    assert "Gather" not in twiml
    assert db.session.get(Alert, alert.id).status == "triggered"
    assert "voicemail" in timeline(alert.id)


def test_a_second_resolve_reply_says_the_alert_was_already_resolved_by_whom_and_when(phones, make_user):
    jo = make_user("responder", name="Jo", time_zone="Europe/London")
    give_methods(jo, ("sms", "+14155550112", 0))
    phones.trigger(escalation_policy_id=policy_for(([jo], 30)).id)
    phones.tick()
    phones.expect_sms("+14155550112", "QD alert 1:")
    assert phones.reply("+14155550112", "1r") == "Resolved alert 1: ERP billing job missed its run"

    phones.wait(minutes=20)  # resolving freed code 1; Jo's second reply comes in late
    answer = phones.reply("+14155550112", "1r")

    assert answer == "QD alert 1 was already resolved by Jo at 03:00: ERP billing job missed its run"  # 02:00 UTC, BST


def test_a_late_reply_is_answered_for_the_alert_its_code_last_stood_for_also_in_a_bundle(phones, people):
    from app.alerting.services import act_and_commit, resolve

    alice, _bob = people
    policy = policy_for(([alice], 30))
    phones.trigger("Old job missed", escalation_policy_id=policy.id, dedup_key="old")
    phones.tick()
    phones.expect_sms(ALICE, "QD alert 1: Old job missed")
    phones.reply(ALICE, "1r")  # code 1 is free again
    phones.wait(minutes=10)
    billing = phones.trigger("Billing missed", escalation_policy_id=policy.id, dedup_key="billing")
    bookings = phones.trigger("Bookings missed", escalation_policy_id=policy.id, dedup_key="bookings")
    phones.tick()
    phones.expect_sms(ALICE, "QD 2 alerts: 1 Bookings missed; 2 Billing missed")  # newest first
    phones.wait(minutes=5)
    for alert in (billing, bookings):
        act_and_commit(alert.id, lambda a: resolve(a, actor="Bob", via="web"))

    assert phones.reply(ALICE, "2r") == "QD alert 2 was already resolved by Bob at 02:15: Billing missed"
    assert phones.reply(ALICE, "1a") == "QD alert 1 was already resolved by Bob at 02:15: Bookings missed"
    assert phones.reply(ALICE, "3r").startswith("No open alert 3 for this number.")  # never shown
