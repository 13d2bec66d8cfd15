"""Paging on a bad day: a process that dies mid-send, a provider that stops answering, a policy nobody
answers, close mode for someone whose rules only text, replies that name the right alert."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select, text

from app.alerting import outbox, send_pass
from app.alerting.channels.gsm import gsm7_length
from app.alerting.engine import Heartbeat, run_engine_tick
from app.alerting.health import ENGINE_HEARTBEAT, paging_health
from app.alerting.models import Alert, AlertEvent, OutboundMessage
from app.alerting.render import sms_text
from app.extensions import db
from app.oncall import policies
from app.system.services import record_heartbeat
from app.timeutil import UTC, utcnow
from tests.alerting.pager import give_methods, policy_for

ALICE, BOB, CAROL = "+14155550101", "+14155550102", "+14155550103"


def events(alert_id: int) -> list[str]:
    return [event.kind for event in db.session.scalars(
        select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id))]


def messages_of(alert_id: int) -> list[OutboundMessage]:
    return list(db.session.scalars(select(OutboundMessage).where(OutboundMessage.alert_id == alert_id)
                                   .order_by(OutboundMessage.id)))


@pytest.fixture
def alice(make_user):
    person = make_user("responder", name="Alice")
    give_methods(person, ("sms", ALICE, 0))
    return person


# --- a process that dies between two writes --------------------------------------------------------------

def test_pages_bundled_by_a_process_that_died_before_sending_all_go_out_again(phones, alice):
    policy = policy_for(([alice], 60))
    alerts = [phones.trigger(f"Job {n} missed", escalation_policy_id=policy.id, dedup_key=f"job-{n}")
              for n in range(3)]
    ids = outbox.claim_due(utcnow(), "dying-process", 10)
    outbox.prepare(ids, utcnow())  # the three pages are bundled into one SMS ... and the process dies here

    pages = [message for alert in alerts for message in messages_of(alert.id)]
    assert {message.status for message in pages} == {"sending"}  # not "bundled": the bundle never left
    assert sum(message.bundled_into_id is not None for message in pages) == 2

    phones.wait(seconds=59)
    phones.expect_nothing()  # the lease still holds
    phones.wait(seconds=2)

    sms = phones.expect_sms(ALICE, "QD 3 alerts:")
    for code in ("1 Job", "2 Job", "3 Job"):
        assert code in sms.body  # every alert's own code is in the bundle
    db.session.expire_all()
    statuses = sorted(message.status for alert in alerts for message in messages_of(alert.id))
    assert statuses == ["bundled", "bundled", "sent"]


def test_a_message_sent_before_its_process_died_is_settled_by_its_delivery_report_not_sent_again(phones, alice):
    alert = phones.trigger(escalation_policy_id=policy_for(([alice], 60)).id)
    ids = outbox.claim_due(utcnow(), "dying-process", 10)
    [item] = outbox.prepare(ids, utcnow())
    outcome = send_pass.send_one(item, phones.app.config)  # it reached Twilio; the process died before recording
    assert outcome.error is None
    sms = phones.expect_sms(ALICE, "QD alert 1:")

    assert phones.report(sms, "sent") == 204  # Twilio's delivery report names our message id
    phones.wait(minutes=5)  # long past the lease

    phones.expect_nothing()
    [message] = messages_of(alert.id)
    assert (message.status, message.provider_ref, message.attempts) == ("sent", sms.sid, 0)
    assert "notified" in events(alert.id)


def test_a_delivery_report_that_lands_while_the_lease_is_being_recovered_is_not_undone(phones, alice):
    alert = phones.trigger(escalation_policy_id=policy_for(([alice], 60)).id)
    ids = outbox.claim_due(utcnow(), "dying-process", 10)
    [item] = outbox.prepare(ids, utcnow())
    send_pass.send_one(item, phones.app.config)  # it reached Twilio; the process died before recording
    sms = phones.expect_sms(ALICE, "QD alert 1:")
    [message] = messages_of(alert.id)
    phones.traveller.shift(timedelta(minutes=5))  # past the lease, and no report yet

    def report_lands_first(conn, cursor, statement, parameters, context, executemany):
        # Between the recovery's read of the expired messages and its release of this one, Twilio's report is
        # recorded (as the report endpoint writes it: settled, with the provider's word).
        if statement.startswith("UPDATE outbound_messages") and "last_error" in statement:
            cursor.execute(f"UPDATE outbound_messages SET status = 'sent', delivery_status = 'sent' "
                           f"WHERE id = {message.id}")

    engine = db.engine
    event.listen(engine, "before_cursor_execute", report_lands_first)
    try:
        counts = outbox.recover_expired_leases(utcnow())
    finally:
        event.remove(engine, "before_cursor_execute", report_lands_first)

    assert counts == {"settled": 0, "released": 0}
    db.session.refresh(message)
    assert (message.status, message.delivery_status) == ("sent", "sent")
    phones.wait(minutes=5)
    phones.expect_nothing()  # the page that reached Twilio is not sent again
    assert [record.sid for record in phones.twilio.messages] == [sms.sid]


def test_a_timeout_is_maybe_sent_and_waits_for_a_report_or_the_lease_before_sending_again(phones, alice, app):
    app.config["TWILIO_TIMEOUT_SECONDS"] = 1
    phones.twilio.fail_next(status=500, delay=3)  # Twilio takes the request and does not answer in time
    alert = phones.trigger(escalation_policy_id=policy_for(([alice], 60)).id)

    phones.tick()
    [message] = messages_of(alert.id)
    assert message.status == "sending" and "may have been sent" in message.last_error
    assert "uncertain" in events(alert.id)
    phones.wait(seconds=30)
    db.session.expire_all()
    assert phones.twilio.messages == []  # no quick retry: it would have been accepted
    assert (messages_of(alert.id)[0].status, messages_of(alert.id)[0].attempts) == ("sending", 1)

    phones.wait(seconds=31)  # the lease ran out and no report came: sent again, once
    phones.expect_sms(ALICE, "QD alert 1:")
    db.session.expire_all()
    assert messages_of(alert.id)[0].status == "sent"


def test_a_failure_twilio_answered_is_retried_after_its_back_off(phones, alice):
    phones.twilio.fail_next(status=503)
    alert = phones.trigger(escalation_policy_id=policy_for(([alice], 60)).id)

    phones.tick()
    [message] = messages_of(alert.id)
    assert message.status == "pending" and message.lease_until is None  # a refusal is not "maybe sent"
    phones.wait(seconds=11)

    phones.expect_sms(ALICE, "QD alert 1:")


def test_sends_in_flight_are_recorded_one_by_one_as_they_return(phones, make_user, app):
    """With one send held at the provider, the others are already recorded as sent."""
    app.config["ENGINE_SEND_CONCURRENCY"] = 4
    people = []
    for n, phone in enumerate((ALICE, BOB, CAROL)):
        person = make_user("responder", name=f"Person {n}")
        give_methods(person, ("sms", phone, 0))
        people.append(person)
    phones.twilio.fail_for(CAROL, status=500, delay=1.5)  # Carol's send hangs, then fails
    for n, person in enumerate(people):
        phones.trigger(f"Job {n}", escalation_policy_id=policy_for(([person], 60), name=f"P{n}").id,
                       dedup_key=f"job-{n}")
    recorded_while_hanging = []
    stop = threading.Event()

    def watch():  # read the outbox through its own connection while the pass runs
        with app.app_context():
            while not stop.is_set():
                rows = db.session.execute(select(OutboundMessage.address, OutboundMessage.status)).all()
                db.session.rollback()
                if {(ALICE, "sent"), (BOB, "sent")} <= set(rows) and (CAROL, "sending") in rows:
                    recorded_while_hanging.append(True)
                    return
                stop.wait(0.05)

    if db.engine.dialect.name == "sqlite":
        pytest.skip("an in-memory SQLite database is one connection: nothing can watch it from another thread")
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        phones.tick()
    finally:
        stop.set()
        watcher.join()
    phones.twilio.clear_failures()

    assert recorded_while_hanging == [True]
    phones.seen += 2  # Alice's and Bob's pages arrived; Carol's failed and is retried after its back-off


def _three_sends_returned(phones, make_user) -> list[tuple]:
    """Pages for three people claimed, prepared and sent (the stand-in has them), not yet recorded."""
    for n, phone in enumerate((ALICE, BOB, CAROL)):
        person = make_user("responder", name=f"Person {n}")
        give_methods(person, ("sms", phone, 0))
        phones.trigger(f"Job {n}", escalation_policy_id=policy_for(([person], 60), name=f"P{n}").id,
                       dedup_key=f"job-{n}")
    items = outbox.prepare(outbox.claim_due(utcnow(), "this-process", 10), utcnow())
    returned = [(item, send_pass.send_one(item, phones.app.config)) for item in items]
    for phone in (ALICE, BOB, CAROL):
        phones.expect_sms(phone, "QD alert")
    return returned


def test_sends_that_returned_together_are_recorded_in_one_commit(phones, make_user):
    returned = _three_sends_returned(phones, make_user)
    commits: list = []
    note = commits.append  # one bound method, so that the same listener is removed
    event.listen(db.engine, "commit", note)
    try:
        state = send_pass.SendPass()
        send_pass._record_returned(state, returned, utcnow())  # noqa: SLF001  (the engine's own step)
    finally:
        event.remove(db.engine, "commit", note)

    assert (len(commits), state.sent, state.unrecorded) == (1, 3, [])
    db.session.expire_all()
    assert sorted(m.status for m in db.session.scalars(select(OutboundMessage))) == ["sent"] * 3


REFUSE_SENT = {
    "sqlite": ["CREATE TRIGGER refuse_sent BEFORE UPDATE OF status ON outbound_messages WHEN NEW.status = 'sent' "
               "BEGIN SELECT RAISE(ABORT, 'database refused'); END"],
    "postgresql": ["CREATE FUNCTION refuse_sent() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "RAISE EXCEPTION 'database refused'; END $$",
                   "CREATE TRIGGER refuse_sent BEFORE UPDATE OF status ON outbound_messages FOR EACH ROW "
                   "WHEN (NEW.status = 'sent') EXECUTE FUNCTION refuse_sent()"],
}
ALLOW_SENT = {"sqlite": ["DROP TRIGGER refuse_sent"],
              "postgresql": ["DROP TRIGGER refuse_sent ON outbound_messages", "DROP FUNCTION refuse_sent()"]}


def test_sends_returned_together_are_all_kept_when_their_commit_fails_and_written_later(phones, make_user):
    returned = _three_sends_returned(phones, make_user)
    dialect = db.engine.dialect.name
    for statement in REFUSE_SENT[dialect]:
        db.session.execute(text(statement))
    db.session.commit()
    state = send_pass.SendPass()

    send_pass._record_returned(state, returned, utcnow())  # noqa: SLF001  (the engine's own step)

    assert (state.sent, len(state.unrecorded)) == (0, 3)  # none half written, none forgotten
    db.session.expire_all()
    assert {m.status for m in db.session.scalars(select(OutboundMessage))} == {"sending"}
    for statement in ALLOW_SENT[dialect]:
        db.session.execute(text(statement))
    db.session.commit()
    assert send_pass.flush_unrecorded(state) is True
    db.session.expire_all()
    assert sorted(m.status for m in db.session.scalars(select(OutboundMessage))) == ["sent"] * 3
    phones.expect_nothing()  # written, not sent again


DAVE = "+14155550104"
REFUSE_CLAIM = {
    "sqlite": [f"CREATE TRIGGER refuse_claim BEFORE UPDATE OF status ON outbound_messages WHEN NEW.status = "
               f"'sending' AND NEW.address = '{DAVE}' BEGIN SELECT RAISE(ABORT, 'database refused'); END"],
    "postgresql": ["CREATE FUNCTION refuse_claim() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "RAISE EXCEPTION 'database refused'; END $$",
                   f"CREATE TRIGGER refuse_claim BEFORE UPDATE OF status ON outbound_messages FOR EACH ROW "
                   f"WHEN (NEW.status = 'sending' AND NEW.address = '{DAVE}') EXECUTE FUNCTION refuse_claim()"],
}
ALLOW_CLAIM = {"sqlite": ["DROP TRIGGER refuse_claim"],
               "postgresql": ["DROP TRIGGER refuse_claim ON outbound_messages", "DROP FUNCTION refuse_claim()"]}


def test_a_claim_refused_while_sends_are_in_flight_records_those_sends_and_pages_nobody_twice(phones, make_user):
    # Three sends go out at once; Alice's answers first, and the next claim (Dave's page) is refused by the
    # database while Bob's and Carol's are still at the provider. Their outcomes must be recorded, not left to
    # their leases, which would page them again if their delivery reports could not be written either.
    for n, phone in enumerate((ALICE, BOB, CAROL, DAVE)):
        person = make_user("responder", name=f"Person {n}")
        give_methods(person, ("sms", phone, 0))
        phones.trigger(f"Job {n}", escalation_policy_id=policy_for(([person], 60), name=f"P{n}").id,
                       dedup_key=f"job-{n}")
    phones.app.config["ENGINE_SEND_CONCURRENCY"] = 3
    phones.twilio.answer_seconds_for.update({BOB: 1.0, CAROL: 1.0})
    dialect = db.engine.dialect.name
    for statement in REFUSE_CLAIM[dialect]:
        db.session.execute(text(statement))
    db.session.commit()

    sent = send_pass.send_due_messages()

    db.session.expire_all()
    status = {m.address: m.status for m in db.session.scalars(select(OutboundMessage))}
    assert (sent, status) == (3, {ALICE: "sent", BOB: "sent", CAROL: "sent", DAVE: "pending"})
    for statement in ALLOW_CLAIM[dialect]:
        db.session.execute(text(statement))
    db.session.commit()
    assert send_pass.send_due_messages() == 1
    assert sorted(record.to for record in phones.twilio.messages) == sorted((ALICE, BOB, CAROL, DAVE))  # once each
    phones.seen += 4


# --- nothing silent --------------------------------------------------------------------------------------

@pytest.fixture
def fallback(make_user):
    lead = make_user("crisis_team", name="Lead")
    give_methods(lead, ("sms", CAROL, 0))
    policy = policy_for(([lead], 15), name="Crisis team (fallback)")
    policies.set_fallback(policy)
    return policy


def test_an_alert_without_a_policy_is_paged_by_the_fallback(phones, fallback):
    alert = phones.trigger(source="api")

    phones.tick()

    phones.expect_sms(CAROL, "QD alert 1:")
    alert = db.session.get(Alert, alert.id)
    assert alert.policy_id == fallback.id and alert.unanswered_at is None
    assert "fallback" in events(alert.id)


def test_an_unanswered_policy_pages_the_fallback_once_and_the_alert_says_unanswered(phones, alice, fallback,
                                                                                    client, login_as):
    alert = phones.trigger(escalation_policy_id=policy_for(([alice], 10)).id)
    phones.tick()
    phones.expect_sms(ALICE, "QD alert 1:")

    phones.wait(minutes=9)
    phones.expect_nothing()  # the policy's only step still has its wait to run
    phones.wait(minutes=1)
    phones.expect_sms(CAROL, "QD alert 1:")  # nobody answered Alice: the fallback, once
    phones.wait(minutes=15)
    phones.wait(minutes=60)
    phones.expect_nothing()

    alert = db.session.get(Alert, alert.id)
    assert alert.unanswered_at == datetime(2026, 10, 6, 2, 10, tzinfo=UTC) and alert.escalation_exhausted
    assert events(alert.id).count("unanswered") == 1
    viewer = login_as("executive")
    assert 'data-testid="unanswered"' in viewer.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert "unanswered" in viewer.get("/alerts").get_data(as_text=True)
    assert 'data-testid="unanswered-alerts"' in viewer.get("/readiness").get_data(as_text=True)
    record_heartbeat()
    record_heartbeat(ENGINE_HEARTBEAT)
    assert client.get("/healthz").get_json()["paging"]["unanswered_alerts"] == [alert.id]


def test_without_a_fallback_an_alert_that_paged_nobody_turns_health_red_after_the_grace(phones, make_user, client):
    ghost = make_user("responder", name="Ghost")  # no contact method at all
    alert = phones.trigger(escalation_policy_id=policy_for(([ghost], 10)).id)
    phones.tick()
    record_heartbeat()
    record_heartbeat(ENGINE_HEARTBEAT)
    assert client.get("/healthz").status_code == 200  # within HEALTH_UNPAGED_ALERT_SECONDS (120)

    phones.traveller.shift(timedelta(seconds=121))
    record_heartbeat()
    record_heartbeat(ENGINE_HEARTBEAT)
    response = client.get("/healthz")

    assert response.status_code == 503
    [unpaged] = response.get_json()["paging"]["unpaged_alerts"]
    assert unpaged["id"] == alert.id and "no message has reached anyone" in unpaged["reason"]


def test_messages_stuck_in_sending_past_their_lease_turn_health_red(phones, alice):
    phones.trigger(escalation_policy_id=policy_for(([alice], 60)).id)
    outbox.claim_due(utcnow(), "stuck-process", 10)
    phones.traveller.shift(timedelta(minutes=3))  # no engine ran meanwhile to free it
    record_heartbeat(ENGINE_HEARTBEAT)

    problems = paging_health().problems

    assert "1 message(s) are stuck in sending past their lease." in problems


def test_the_oldest_due_message_turns_health_red_when_nothing_sends_it(phones, alice):
    phones.trigger(escalation_policy_id=policy_for(([alice], 60)).id)
    phones.traveller.shift(timedelta(minutes=2))
    record_heartbeat(ENGINE_HEARTBEAT)

    health = paging_health()

    assert health.oldest_due_seconds == 120 and any("oldest message due" in p for p in health.problems)


def test_the_heartbeat_is_written_during_a_long_drain_not_only_at_its_end(app, twilio, make_user):
    app.config.update(SCHEDULER_HEARTBEAT_SECONDS=1, ENGINE_SEND_CONCURRENCY=1)
    twilio.answer_seconds = 0.3
    for n in range(8):
        person = make_user("responder", name=f"P{n}")
        give_methods(person, ("sms", f"+1415555030{n}", 0))
        from app.alerting.services import raise_alert
        raise_alert(summary=f"Job {n}", source="job", escalation_policy_id=policy_for(([person], 60),
                                                                                       name=f"P{n}").id)
    db.session.commit()
    heartbeat = Heartbeat()

    result = run_engine_tick(heartbeat)

    assert result["sent"] == 8
    assert heartbeat.written >= 2  # about 2.4 s of sending: beats during it, at least every second


# --- close mode keeps its promise ---------------------------------------------------------------------------

def test_in_close_mode_someone_whose_rules_only_text_is_called_on_their_verified_voice_number(phones, make_user,
                                                                                              app):
    from app.oncall.models import ContactKind, ContactMethod

    app.config.update(CLOSE_WINDOW_START_BD=-30, CLOSE_WINDOW_END_BD=30)  # T0 lies inside the window
    sam = make_user("responder", name="Sam")
    give_methods(sam, ("sms", "+14155550107", 0))  # rules: SMS only
    db.session.add(ContactMethod(user_id=sam.id, kind=ContactKind.VOICE, address="+14155550107",
                                 verified_at=utcnow()))
    db.session.commit()
    phones.trigger(escalation_policy_id=policy_for(([sam], 30), close_mode=True).id)

    phones.tick()

    assert {(r.kind, r.to) for r in phones._unseen()} == {("message", "+14155550107"), ("call", "+14155550107")}
    phones.seen += 2


def test_the_policy_page_names_who_cannot_be_called_in_close_mode(app, make_user, login_as):
    from app.oncall.models import ContactKind, ContactMethod

    callable_person, texted_only = make_user("responder", name="Cal"), make_user("responder", name="Tex")
    give_methods(callable_person, ("voice", "+14155550108", 0))
    give_methods(texted_only, ("sms", "+14155550109", 0))
    db.session.add(ContactMethod(user_id=texted_only.id, kind=ContactKind.VOICE, address="+14155550110"))  # unverified
    db.session.commit()
    policy = policy_for(([callable_person, texted_only], 10), close_mode=True)

    page = login_as("responder").get(f"/policies/{policy.id}").get_data(as_text=True)

    section = page[page.index('data-testid="cannot-be-called"'):]
    assert "Tex" in section and "Cal</a>" not in section
    assert policies.cannot_be_called(policy) == [texted_only]


# --- replies that act on the right alert ---------------------------------------------------------------------

def test_a_alone_acknowledges_the_newest_unacknowledged_alert_and_says_which(phones, alice):
    policy = policy_for(([alice], 30))
    older = phones.trigger("Older", escalation_policy_id=policy.id, dedup_key="older")
    phones.tick()
    phones.expect_sms(ALICE, "QD alert 1: Older")
    newer = phones.trigger("Newer", escalation_policy_id=policy.id, dedup_key="newer")
    phones.tick()
    phones.expect_sms(ALICE, "QD alert 2: Newer")
    assert phones.reply(ALICE, "2a").startswith("Acknowledged alert 2: Newer")

    answer = phones.reply(ALICE, "a")  # the newest one is acknowledged already: the older one is meant

    assert answer.startswith("Acknowledged alert 1: Older")
    assert db.session.get(Alert, older.id).status == "acknowledged"
    assert db.session.get(Alert, newer.id).acknowledged_by == "Alice"
    assert phones.reply(ALICE, "a").startswith("No unacknowledged alert for this number.")


def test_aa_acknowledges_every_alert_of_the_last_bundle(phones, alice):
    policy = policy_for(([alice], 30))
    alerts = [phones.trigger(f"Job {n}", escalation_policy_id=policy.id, dedup_key=f"j{n}") for n in range(3)]
    phones.tick()
    phones.expect_sms(ALICE, "aa to ack all")

    answer = phones.reply(ALICE, "aa")

    assert answer == "Acknowledged 3 of 3 alerts: 1, 2, 3."  # newest first, as the SMS listed them
    assert {db.session.get(Alert, alert.id).status for alert in alerts} == {"acknowledged"}
    assert phones.reply(ALICE, "ack all") == "Nothing to acknowledge: the 3 alerts were already acknowledged or " \
                                             "resolved."


@pytest.mark.parametrize("count", [1, 2, 7])
def test_a_page_sms_is_one_gsm7_segment_with_every_code_and_a_link_even_for_200_character_summaries(app, count):
    summary = "Nightly ERP billing extract — “AMER” ledger — failed with exit code 3 after 4h12m; " * 3
    alerts = [Alert(id=40 + n, summary=summary[:200], severity="critical", source="job", created_at=utcnow())
              for n in range(count)]

    text = sms_text([(n + 1, alert) for n, alert in enumerate(alerts)])

    assert gsm7_length(text) <= 160
    assert all(f"{n + 1}" in text for n in range(count))
    assert text.endswith("/a/40" if count == 1 else "/alerts")
    assert ("Reply 1a to ack, 1r to resolve." if count == 1 else "aa to ack all") in text


def test_a_short_link_opens_the_alert(app, login_as):
    response = login_as("responder").get("/a/12")
    assert response.status_code == 302 and response.headers["Location"].endswith("/alerts/12")


def test_a_drain_with_many_sends_in_flight_sends_each_message_exactly_once(app, twilio, make_user):
    """The pool is refilled while earlier sends are still in flight under the same pass: none is sent twice."""
    from app.alerting.services import raise_alert

    app.config.update(ENGINE_SEND_CONCURRENCY=8, THROTTLE_SMS=None)
    twilio.answer_range = (0.01, 0.05)
    people = []
    for n in range(40):
        person = make_user("responder", name=f"P{n}")
        give_methods(person, ("sms", f"+141555504{n:02d}", 0))
        people.append(person)
    policy = policies.save_policy(None, name="Everyone", steps=[
        {"delay_minutes": 60, "targets": [{"user_id": person.id} for person in people[:20]]},
        {"delay_minutes": 60, "targets": [{"user_id": person.id} for person in people[20:]]}])
    for n in range(3):
        raise_alert(summary=f"Job {n}", source="job", dedup_key=f"j{n}", escalation_policy_id=policy.id)
    db.session.commit()

    sent = send_pass.send_due_messages()

    received = [record.to for record in twilio.messages]
    assert sent == len(received) == 20 and len(set(received)) == 20  # step 1's twenty people, one SMS each
