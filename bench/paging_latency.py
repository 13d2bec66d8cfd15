"""Paging latency and throughput: from POST /api/v1/alerts to the stand-in Twilio server receiving the SMS.

Everything runs on 127.0.0.1: the stand-in Twilio REST server (tests/fakes/twilio_server.py) inside this
process, the app under gunicorn (2 workers) and one `flask scheduler run` process with the DEFAULT engine
configuration (only the SMS throttle is off: every page goes to one person), on a fresh SQLite file (default)
or a fresh PostgreSQL database (--postgres). The stand-in answers each request after a random 100-250 ms
(--provider-ms), as Twilio's own round trip does.

(a) latency: ALERTS alerts posted one at a time at RATE per second, each paging one person by SMS; for each
    alert the time from sending the POST to the SMS carrying it arriving (alerts due together are bundled
    into one SMS, as after any burst). Prints p50, p99 and max.
(b) throughput: the scheduler stopped, 1,000 SMS to 1,000 different people made due at once (50 alerts,
    each paging a step of 20 people), the scheduler started with each ENGINE_SEND_CONCURRENCY of
    --concurrency ("default" is the configuration's own); the time from the first to the 1,000th arrival,
    as messages per second (median of --repeat runs).
(c) a flood for one person: 1,000 alerts for the same person due at once; how many SMS they become
    (bundled) and how long until the outbox is empty.

Run: `.venv/bin/python bench/paging_latency.py [--postgres] [--alerts 200] [--repeat 3] [--provider-ms 100,250]`.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent

import flask_migrate  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.alerting.models import MessageStatus, OutboundMessage  # noqa: E402
from app.alerting.services import raise_alert  # noqa: E402
from app.auth import services as auth  # noqa: E402
from app.auth.roles import Role  # noqa: E402
from app.extensions import db  # noqa: E402
from app.oncall import policies  # noqa: E402
from app.oncall.models import ContactKind, ContactMethod, NotificationRule  # noqa: E402
from app.timeutil import utcnow  # noqa: E402
from tests import support  # noqa: E402
from tests.fakes.twilio_server import FakeTwilio  # noqa: E402

FROM_NUMBER = "+15005550006"
SECRET_KEY = "bench-secret-key-123456"
CROWD, STEP_SIZE = 1000, 20  # (b): people paged at once, people per policy step (the policy maximum)
OPEN_STATES = (MessageStatus.PENDING.value, MessageStatus.SENDING.value)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 200 samples is the 198th smallest)."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))]


# --- the world ---------------------------------------------------------------------------------------

def person_with_sms(n: int, phone: str):
    person = auth.create_user(role=Role.RESPONDER, email=f"bench{n}@example.com", name=f"Bench {n}",
                              password="correct horse battery")
    method = ContactMethod(user_id=person.id, kind=ContactKind.SMS, address=phone, verified_at=utcnow())
    db.session.add(method)
    db.session.flush()
    db.session.add(NotificationRule(user_id=person.id, contact_method_id=method.id, delay_minutes=0))
    db.session.commit()
    return person


def set_up(args) -> tuple[int, int, list[int], str]:
    """The on-call person with their policy and API token, and the crowd's policies. (person policy, ...)."""
    oncall = person_with_sms(0, "+14155550100")
    # One step, no repeat: after the SMS nothing else is due during the run.
    policy = policies.save_policy(None, name="Bench on-call", repeat=0,
                                  steps=[{"delay_minutes": 60, "targets": [{"user_id": oncall.id}]}])
    _record, token = auth.create_token(oncall, name="bench")
    crowd = [person_with_sms(n, f"+1415{5_000_000 + n:07d}").id for n in range(1, CROWD + 1)]
    crowd_policies = [policies.save_policy(None, name=f"Crowd {i}", repeat=0, steps=[
        {"delay_minutes": 60, "targets": [{"user_id": uid} for uid in crowd[i:i + STEP_SIZE]]}]).id
        for i in range(0, CROWD, STEP_SIZE)]
    return oncall.id, policy.id, crowd_policies, token


# --- processes ---------------------------------------------------------------------------------------

def process_env(database_url: str, twilio: FakeTwilio, concurrency: int | None = None) -> dict[str, str]:
    """The engine's own defaults (tick, lease, concurrency) unless `concurrency` is given; throttles off."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY, "LOG_LEVEL": "WARNING",
           "TWILIO_ACCOUNT_SID": twilio.account_sid, "TWILIO_AUTH_TOKEN": twilio.auth_token,
           "TWILIO_FROM_NUMBER": FROM_NUMBER, "TWILIO_API_BASE_URL": twilio.url,
           "PUBLIC_BASE_URL": "http://127.0.0.1:9", "THROTTLE_SMS": "off", "THROTTLE_VOICE": "off"}
    for name in ("ENGINE_TICK_SECONDS", "ENGINE_SEND_CONCURRENCY", "ENGINE_LEASE_SECONDS"):
        env.pop(name, None)
    if concurrency is not None:
        env["ENGINE_SEND_CONCURRENCY"] = str(concurrency)
    return env


def start_gunicorn(port: int, env: dict[str, str], log) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--no-control-socket",
         "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:  # an answer, not just an open port: the workers have imported the app
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {log.name}")
            time.sleep(0.2)
    stop(process)
    raise SystemExit(f"gunicorn did not answer within 30 s; see {log.name}")


def start_scheduler(env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen([str(VENV_BIN / "python"), "-m", "flask", "--app", "wsgi", "scheduler", "run"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- reading the outbox ------------------------------------------------------------------------------

def alerts_carried() -> dict[int, set[int]]:
    """Per sent message id, the alerts it carried (its own and those bundled into it)."""
    db.session.expire_all()
    carried: dict[int, set[int]] = {}
    for row in db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "alert")):
        if row.status == MessageStatus.SENT.value:
            carried.setdefault(row.id, set()).add(row.alert_id)
        elif row.status == MessageStatus.BUNDLED.value and row.bundled_into_id:
            carried.setdefault(row.bundled_into_id, set()).add(row.alert_id)
    db.session.rollback()
    return carried


def outbox_open() -> int:
    db.session.expire_all()
    count = db.session.scalar(select(func.count()).select_from(OutboundMessage)
                              .where(OutboundMessage.status.in_(OPEN_STATES)))
    db.session.rollback()
    return count


def wait_until_empty(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while outbox_open() and time.monotonic() < deadline:
        time.sleep(0.2)
    if outbox_open():
        raise SystemExit(f"the outbox still held {outbox_open()} message(s) after {timeout:.0f} s")


# --- (a) latency -------------------------------------------------------------------------------------

def post_alert(conn: http.client.HTTPConnection, token: str, policy_id: int, key: str) -> int:
    body = json.dumps({"summary": f"Bench alert {key}", "severity": "critical", "dedup_key": key,
                       "escalation_policy_id": policy_id})
    conn.request("POST", "/api/v1/alerts", body=body,
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    if response.status != 201:
        raise SystemExit(f"POST /api/v1/alerts answered {response.status}: {payload[:300]!r}")
    return json.loads(payload)["id"]


def measure_latency(args, port: int, token: str, policy_id: int, twilio: FakeTwilio) -> dict[str, float]:
    twilio.clear()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    posted: dict[int, float] = {}
    post_ms: list[float] = []
    start = time.monotonic()
    for i in range(args.alerts):
        time.sleep(max(0.0, start + i / args.rate - time.monotonic()))
        sent_at = time.monotonic()
        alert_id = post_alert(conn, token, policy_id, f"latency-{i}")
        post_ms.append((time.monotonic() - sent_at) * 1000)
        posted[alert_id] = sent_at
    wait_until_empty(60)
    time.sleep(0.5)
    carried = alerts_carried()
    arrival: dict[int, float] = {}
    for record in twilio.messages:
        for alert_id in carried.get(record.message_id, ()):
            arrival[alert_id] = min(arrival.get(alert_id, record.received_at), record.received_at)
    missing = set(posted) - set(arrival)
    if missing:
        raise SystemExit(f"{len(missing)} alert(s) never reached the stand-in Twilio server")
    latency = [(arrival[alert_id] - posted[alert_id]) * 1000 for alert_id in posted]
    return {"p50_ms": statistics.median(latency), "p99_ms": percentile(latency, 0.99), "max_ms": max(latency),
            "post_p50_ms": statistics.median(post_ms), "sms": len(twilio.messages)}


# --- (b) throughput, (c) one person's flood ----------------------------------------------------------

def measure_throughput(env: dict[str, str], log, crowd_policies: list[int], twilio: FakeTwilio,
                       run: str) -> float:
    """Make CROWD SMS due at once with the scheduler stopped, start it, time first to last arrival."""
    for i, policy_id in enumerate(crowd_policies):
        raise_alert(summary=f"Crowd alert {run}-{i}", source="api", dedup_key=f"crowd-{run}-{i}",
                    escalation_policy_id=policy_id)
    db.session.commit()
    twilio.clear()
    scheduler = start_scheduler(env, log)
    try:
        records = twilio.wait_for(CROWD, timeout=300, kind="message")
        time.sleep(1.0)  # a second send of any of them would arrive now
    finally:
        stop(scheduler)
    if len(twilio.messages) != CROWD:
        raise SystemExit(f"expected {CROWD} SMS, the stand-in received {len(twilio.messages)}")
    times = sorted(record.received_at for record in records)
    return CROWD / (times[-1] - times[0])


def measure_flood(env: dict[str, str], log, policy_id: int, twilio: FakeTwilio) -> dict[str, float]:
    for i in range(CROWD):
        raise_alert(summary=f"Flood alert {i}", source="api", dedup_key=f"flood-{i}", escalation_policy_id=policy_id)
    db.session.commit()
    twilio.clear()
    started = time.monotonic()
    scheduler = start_scheduler(env, log)
    try:
        twilio.wait_for(1, timeout=60, kind="message")
        wait_until_empty(300)
        first = min(record.received_at for record in twilio.messages)
        cleared = time.monotonic()
    finally:
        stop(scheduler)
    return {"sms": len(twilio.messages), "seconds_from_first_sms": cleared - first,
            "seconds_from_start": cleared - started}


# --- main ----------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database instead of SQLite")
    parser.add_argument("--alerts", type=int, default=200, help="alerts posted for the latency figures")
    parser.add_argument("--rate", type=float, default=20.0, help="alerts posted per second")
    parser.add_argument("--concurrency", default="default,8,64",
                        help="ENGINE_SEND_CONCURRENCY values to compare ('default': the configuration's)")
    parser.add_argument("--repeat", type=int, default=3, help="throughput runs per concurrency (median shown)")
    parser.add_argument("--provider-ms", default="100,250",
                        help="the stand-in answers after a random time in this range, like Twilio (ms; '0' for at "
                             "once)")
    args = parser.parse_args()
    print("$ " + shlex.join([Path(sys.executable).name, *sys.argv]))

    tmp = Path(tempfile.mkdtemp(prefix="qd-paging-bench-"))
    pg_name = None
    if args.postgres:
        if reason := support.postgres_unavailable_reason():
            raise SystemExit(reason)
        pg_name, url = support.create_pg_database("qd_bench", wait_for_disk=True)
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    low, _comma, high = args.provider_ms.partition(",")
    provider = (float(low) / 1000, float(high or low) / 1000)
    twilio = FakeTwilio(from_number=FROM_NUMBER)
    twilio.answer_range = provider if provider[1] > 0 else None
    twilio.start()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": support.FAST_HASH},
                     env={"SECRET_KEY": SECRET_KEY})
    log = open(tmp / "processes.log", "w")
    processes: list[subprocess.Popen] = []
    finished = False
    try:
        with app.app_context():
            flask_migrate.upgrade()
            _oncall_id, policy_id, crowd_policies, token = set_up(args)

            port = free_port()
            processes = [start_gunicorn(port, process_env(url, twilio), log),
                         start_scheduler(process_env(url, twilio), log)]
            post_alert(http.client.HTTPConnection("127.0.0.1", port, timeout=10), token, policy_id, "warm-up")
            wait_until_empty(30)
            latency = measure_latency(args, port, token, policy_id, twilio)
            for process in processes:
                stop(process)
            processes = []

            throughput: dict[str, list[float]] = {}
            for concurrency in args.concurrency.split(","):
                env = process_env(url, twilio, None if concurrency == "default" else int(concurrency))
                throughput[concurrency] = [measure_throughput(env, log, crowd_policies, twilio, f"c{concurrency}r{r}")
                                           for r in range(args.repeat)]
            flood = measure_flood(process_env(url, twilio), log, policy_id, twilio)
            db.session.remove()
            db.engine.dispose()
        finished = True
    finally:
        for process in processes:
            stop(process)
        twilio.stop()
        log.close()
        if pg_name:
            support.drop_pg_database(pg_name)
        if finished:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"the processes' output is in {tmp / 'processes.log'}", file=sys.stderr)

    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\nbackend: {backend}; gunicorn 2 workers + 1 scheduler with the default engine configuration "
          f"(THROTTLE_SMS=off); the stand-in answers after {args.provider_ms} ms")
    print(f"(a) POST /api/v1/alerts -> SMS at the stand-in Twilio: {args.alerts} alerts at {args.rate:g}/s, "
          f"{latency['sms']} SMS (alerts due together share an SMS)")
    print(f"    {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'POST p50 ms':>12}")
    print(f"    {latency['p50_ms']:>8.0f} {latency['p99_ms']:>8.0f} {latency['max_ms']:>8.0f} "
          f"{latency['post_p50_ms']:>12.1f}")
    print(f"(b) {CROWD} SMS to {CROWD} people due at once, first to last arrival (median of {args.repeat})")
    print(f"    {'concurrency':>11} {'msg/s':>8} {'runs':>24}")
    for concurrency, rates in throughput.items():
        runs = " ".join(f"{rate:.0f}" for rate in rates)
        print(f"    {concurrency:>11} {statistics.median(rates):>8.0f} {runs:>24}")
    print(f"(c) {CROWD} alerts for one person due at once: {flood['sms']} SMS (bundled); outbox empty "
          f"{flood['seconds_from_first_sms']:.1f} s after the first SMS")
    print(json.dumps({"backend": backend, "provider_ms": args.provider_ms,
                      "latency_ms": {k: round(v, 1) for k, v in latency.items()},
                      "throughput_msg_per_s": {c: round(statistics.median(r), 1) for c, r in throughput.items()},
                      "flood": {k: round(v, 2) for k, v in flood.items()}}))


if __name__ == "__main__":
    main()
