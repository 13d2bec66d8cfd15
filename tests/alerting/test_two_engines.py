"""Two real scheduler processes against one PostgreSQL database page 200 alerts: each page goes out once.

The alerts are raised in batches while both engines are already ticking, so the two compete for the same
outbox rows; half of them start with a step that reaches nobody, so the engines also race to run the next
step of the same alerts. What the stand-in Twilio server received is then checked against the outbox: one request per
sent row, every alert's first step reaching each of its person's methods exactly once (alone or inside a
bundle), and both processes having claimed some of the work.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import func, select

from app import create_app
from app.alerting.models import Alert, MessageStatus, OutboundMessage
from app.alerting.services import raise_alert
from app.auth import services as auth
from app.auth.roles import Role
from app.extensions import db
from app.oncall import policies
from app.oncall import services as oncall
from app.oncall.models import ContactKind, ContactMethod, NotificationRule
from app.timeutil import utcnow
from tests import support
from tests.conftest import require
from tests.fakes.twilio_server import FakeTwilio

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
FROM_NUMBER = "+15005550006"
ALERTS, BATCHES, BATCH_PAUSE = 200, 10, 0.3
PEOPLE, WITH_VOICE = 6, 2  # the first WITH_VOICE people are also called at 0 minutes
START_SECONDS, SETTLE_SECONDS, STRAGGLER_SECONDS = 20, 60, 2.0
PROVIDER_SECONDS = 0.2
OPEN_STATES = (MessageStatus.PENDING.value, MessageStatus.SENDING.value)


def _setup_people_and_policies() -> tuple[list[int], dict[int, set[int]]]:
    """People with a verified SMS method (some also voice), each at 0 minutes, and two policies each.

    One policy pages the person at once (the page is written with the alert); the other first tries a
    colleague who has no contact method, so the step after it is due at once and the two engines race
    to run it. Returns the policy ids and, per policy, the contact method ids its alerts must reach.
    """
    unreachable = auth.create_user(role=Role.RESPONDER, email="away@example.com", name="Away",
                                   password="correct horse battery")
    policy_ids, methods_by_policy = [], {}
    for n in range(PEOPLE):
        person = auth.create_user(role=Role.RESPONDER, email=f"pager{n}@example.com", name=f"Pager {n}",
                                  password="correct horse battery")
        phone = f"+1415555{100 + n:04d}"
        kinds = [ContactKind.SMS] + ([ContactKind.VOICE] if n < WITH_VOICE else [])
        methods = [ContactMethod(user_id=person.id, kind=kind, address=phone, verified_at=utcnow()) for kind in kinds]
        db.session.add_all(methods)
        db.session.flush()
        db.session.add_all(NotificationRule(user_id=person.id, contact_method_id=method.id, delay_minutes=0)
                           for method in methods)
        db.session.commit()
        # Confirmed for this quarter: the contact reminder job has nothing to say to them whatever the date.
        oncall.confirm_contacts(person, person)
        # No repeat and a 30-minute wait after the person's step: nothing else is due during the test.
        direct = policies.save_policy(None, name=f"Pager {n} at once", repeat=0,
                                      steps=[{"delay_minutes": 30, "targets": [{"user_id": person.id}]}])
        after_gap = policies.save_policy(None, name=f"Pager {n} after a gap", repeat=0, steps=[
            {"delay_minutes": 30, "targets": [{"user_id": unreachable.id}]},
            {"delay_minutes": 30, "targets": [{"user_id": person.id}]}])
        for policy in (direct, after_gap):
            policy_ids.append(policy.id)
            methods_by_policy[policy.id] = {method.id for method in methods}
    return policy_ids, methods_by_policy


def _start_engine(url: str, twilio: FakeTwilio, log_path: Path) -> subprocess.Popen:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": url,
           "SECRET_KEY": support.TEST_ENV["SECRET_KEY"], "TWILIO_ACCOUNT_SID": twilio.account_sid,
           "TWILIO_AUTH_TOKEN": twilio.auth_token, "TWILIO_FROM_NUMBER": FROM_NUMBER,
           "TWILIO_API_BASE_URL": twilio.url, "PUBLIC_BASE_URL": "http://127.0.0.1:9",
           "ENGINE_TICK_SECONDS": "1", "ENGINE_SEND_CONCURRENCY": "1", "THROTTLE_SMS": "off", "THROTTLE_VOICE": "off"}
    with open(log_path, "w") as log_file:
        return subprocess.Popen([str(PYTHON), "-m", "flask", "--app", "wsgi", "scheduler", "run"], cwd=ROOT,
                                env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_until_running(processes: list[subprocess.Popen], logs: list[Path]) -> None:
    """Both processes ran every job once and started their timers (they print a line then)."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        for process, log in zip(processes, logs):
            assert process.poll() is None, f"a scheduler exited early:\n{log.read_text()}"
        if all("Scheduler running" in log.read_text() for log in logs):
            return
        time.sleep(0.1)
    pytest.fail(f"the schedulers did not start within {START_SECONDS} s:\n"
                + "\n".join(log.read_text() for log in logs))


def _raise_in_batches(policy_ids: list[int]) -> dict[int, int]:
    """Raise the alerts while the engines tick; returns each alert's policy id."""
    policy_of = {}
    for batch in range(BATCHES):
        for i in range(batch * ALERTS // BATCHES, (batch + 1) * ALERTS // BATCHES):
            policy_id = policy_ids[i % len(policy_ids)]
            alert, created = raise_alert(summary=f"Nightly job {i} missed its run", source="api",
                                         dedup_key=f"two-engines-{i}", escalation_policy_id=policy_id)
            assert created
            policy_of[alert.id] = policy_id
        db.session.commit()
        time.sleep(BATCH_PAUSE)
    return policy_of


def _settled(twilio: FakeTwilio) -> bool:
    db.session.expire_all()
    open_count = db.session.scalar(select(func.count()).select_from(OutboundMessage).where(
        OutboundMessage.status.in_(OPEN_STATES)))
    sent = db.session.scalar(select(func.count()).select_from(OutboundMessage).where(
        OutboundMessage.status == MessageStatus.SENT.value))
    db.session.rollback()
    return open_count == 0 and len(twilio.messages) + len(twilio.calls) >= sent


def _paging_failures(logs: list[Path]) -> str:
    """The log records of failed paging jobs with their tracebacks. Other domains' jobs are not judged here
    (one may fail on a table its migration has not created yet)."""
    found, keep = [], False
    for log in logs:
        for line in log.read_text().splitlines():
            if re.match(r"\d{4}-\d\d-\d\d ", line):
                keep = bool(re.search(r"ERROR .*job paging\S* failed", line))
            if keep:
                found.append(f"{log.name}: {line}")
    return "\n".join(found)


def _stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=support.STOP_BOUND)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return -9


def test_two_scheduler_processes_on_postgresql_send_each_page_exactly_once(tmp_path):
    require(support.postgres_unavailable_reason())
    name, url = support.create_pg_database("qd_two_engines")
    twilio = FakeTwilio(from_number=FROM_NUMBER).start()
    # Answering as slowly as Twilio does (one at a time per engine) keeps each engine's pass busy for seconds:
    # pages raised meanwhile wait, and the other engine's tick claims them. Without it, whichever engine
    # happens to tick just after each batch could take all the work, and the race would not be run at all.
    twilio.answer_seconds = PROVIDER_SECONDS
    processes: list[subprocess.Popen] = []
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": support.FAST_HASH},
                     env=support.TEST_ENV)
    logs = [tmp_path / "engine-1.log", tmp_path / "engine-2.log"]
    try:
        with app.app_context():
            flask_migrate.upgrade()
            policy_ids, methods_by_policy = _setup_people_and_policies()
            processes = [_start_engine(url, twilio, log) for log in logs]
            _wait_until_running(processes, logs)
            policy_of = _raise_in_batches(policy_ids)
            deadline = time.monotonic() + SETTLE_SECONDS
            while not _settled(twilio) and time.monotonic() < deadline and not _paging_failures(logs):
                time.sleep(0.25)
            time.sleep(STRAGGLER_SECONDS)  # a second send, if there were one, would arrive now
            return_codes = [_stop(process) for process in processes]
            pids = {str(process.pid) for process in processes}
            rows = list(db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))
            alert_ids = set(db.session.scalars(select(Alert.id)))
            db.session.remove()
            db.engine.dispose()
    finally:
        for process in processes:
            _stop(process)
        twilio.stop()
        support.drop_pg_database(name)

    assert _paging_failures(logs) == ""
    assert return_codes == [0, 0], "\n".join(log.read_text() for log in logs)
    assert alert_ids == set(policy_of) and len(alert_ids) == ALERTS

    # The outbox: one row per alert and contact method of its person, none written twice.
    page_rows = [row for row in rows if row.purpose == "alert"]
    assert [row for row in rows if row.purpose != "alert"] == []
    pairs = Counter((row.alert_id, row.contact_method_id) for row in page_rows)
    expected = {(alert_id, method_id) for alert_id, policy_id in policy_of.items()
                for method_id in methods_by_policy[policy_id]}
    assert set(pairs) == expected
    assert [pair for pair, count in pairs.items() if count > 1] == []

    # Every row went out: sent itself, or inside a bundle that was sent to the same method.
    by_id = {row.id: row for row in page_rows}
    sent = {row.id: row for row in page_rows if row.status == MessageStatus.SENT.value}
    for row in page_rows:
        if row.status == MessageStatus.BUNDLED.value:
            carrier = by_id.get(row.bundled_into_id)
            assert carrier is not None and carrier.id in sent and carrier.contact_method_id == row.contact_method_id, \
                f"message {row.id} was bundled into {row.bundled_into_id}, which was not sent to the same method"
        else:
            assert row.status == MessageStatus.SENT.value, (row.id, row.status, row.last_error)
    assert [row.id for row in sent.values() if row.attempts != 1] == [], "a sent message was tried more than once"

    # The stand-in Twilio server: exactly one accepted request per sent row, to its address, nothing else.
    records = twilio.messages + twilio.calls
    received = Counter((record.kind, record.to, record.message_id) for record in records)
    twice = {key: count for key, count in received.items() if count > 1}
    assert twice == {}, f"sent more than once: {twice}"
    assert {message_id for _kind, _to, message_id in received} == set(sent)
    for record in records:
        row = sent[record.message_id]
        assert (record.kind, record.to) == ("message" if row.kind == "sms" else "call", row.address)
        assert row.provider_ref == record.sid
    assert len(twilio.requests) == len(records), "the stand-in refused a request"

    # Both processes did part of the work (the claim token is host:pid:random).
    claimers = Counter(row.claimed_by.split(":")[1] for row in sent.values())
    assert set(claimers) == pids, f"claims by pid: {dict(claimers)}; processes: {pids}"
    print(f"\n{len(page_rows)} pages for {ALERTS} alerts went out as {len(records)} requests; "
          f"claims by pid: {dict(claimers)}", file=sys.stderr)
