"""Real scheduler processes paging against one PostgreSQL database and the stand-in Twilio server, with faults.

Used by the fault tests (tests/alerting/test_paging_faults.py) and by bench/paging_faults.py. A `Fleet` starts
engine processes (`flask scheduler run`), a web server in this process that takes Twilio's delivery reports
(the stand-in posts one after each message it accepts, as Twilio does), and counts afterwards what the phones
received against what the outbox says: pages expected, sent, lost, sent twice, and how late.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import func, or_, select
from werkzeug.serving import make_server

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
from tests.fakes.twilio_server import FakeTwilio

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
FROM_NUMBER = "+15005550006"
SENT_STATES = (MessageStatus.SENT.value, MessageStatus.DELIVERED.value)


@dataclass
class Tally:
    """What happened to the pages of one scenario."""
    expected: int
    sent: int
    duplicates: int
    lost: int
    max_delay_s: float
    requests: int
    refused_reports: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self, scenario: str) -> str:
        return (f"scenario={scenario} expected={self.expected} sent={self.sent} duplicates={self.duplicates} "
                f"lost={self.lost} max_delay_s={self.max_delay_s:.1f}")


class Fleet:
    """Engines, the stand-in Twilio server and a delivery-report receiver around one fresh PostgreSQL database."""

    def __init__(self, workdir: Path, *, lease_seconds: int = 10, concurrency: int = 16, tick_seconds: int = 5,
                 answer_range: tuple[float, float] = (0.1, 0.25), wait_for_disk: bool = False):
        self.workdir, self.lease, self.concurrency, self.tick = workdir, lease_seconds, concurrency, tick_seconds
        self.name, self.url = support.create_pg_database("qd_fleet", wait_for_disk=wait_for_disk)
        self.twilio = FakeTwilio(from_number=FROM_NUMBER).start()
        self.twilio.answer_range = answer_range
        self.processes: dict[str, subprocess.Popen] = {}
        self.raised_at: dict[int, float] = {}  # alert id -> time.monotonic() when its raise was committed
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": self.url, "PASSWORD_HASH_METHOD": support.FAST_HASH,
                               **self._twilio_config()}, env=support.TEST_ENV)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.public_url = f"http://127.0.0.1:{self._server.server_port}"
        self.app.config["PUBLIC_BASE_URL"] = self.public_url  # webhooks are signed for this address
        self._thread = threading.Thread(target=self._server.serve_forever, name="reports", daemon=True)
        self._thread.start()
        self.twilio.report_to = self.public_url

    def _twilio_config(self) -> dict[str, str]:
        return {"TWILIO_ACCOUNT_SID": self.twilio.account_sid, "TWILIO_AUTH_TOKEN": self.twilio.auth_token,
                "TWILIO_FROM_NUMBER": FROM_NUMBER, "TWILIO_API_BASE_URL": self.twilio.url}

    # --- processes ----------------------------------------------------------------------------------

    def start_engine(self, name: str) -> subprocess.Popen:
        url = f"{self.url}?application_name={name}"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": url,
               "SECRET_KEY": support.TEST_ENV["SECRET_KEY"], "PUBLIC_BASE_URL": self.public_url,
               "ENGINE_TICK_SECONDS": str(self.tick), "ENGINE_SEND_CONCURRENCY": str(self.concurrency),
               "ENGINE_LEASE_SECONDS": str(self.lease), "THROTTLE_SMS": "off", "THROTTLE_VOICE": "off",
               "THROTTLE_EMAIL": "off", "TWILIO_TIMEOUT_SECONDS": "10", **self._twilio_config()}
        log = open(self.workdir / f"{name}.log", "w")  # noqa: SIM115  (the process writes it until it stops)
        process = subprocess.Popen([str(PYTHON), "-m", "flask", "--app", "wsgi", "scheduler", "run"], cwd=ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def log_of(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text()

    def wait_running(self, names: list[str], timeout: float = 90.0) -> None:
        """Each engine printed that it runs (after its first pass and its jobs ran once)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in names:
                if self.processes[name].poll() is not None:
                    raise AssertionError(f"engine {name} exited early:\n{self.log_of(name)}")
            if all("Scheduler running" in self.log_of(name) for name in names):
                return
            time.sleep(0.1)
        raise AssertionError("engines did not start:\n" + "\n".join(self.log_of(name) for name in names))

    def kill(self, name: str) -> None:
        """kill -9: no clean-up of any kind, as when a machine loses power."""
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait()

    def stop(self, name: str, timeout: float = 20.0) -> int:
        process = self.processes[name]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return -9

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        self._server.shutdown()
        self.twilio.stop()
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        support.drop_pg_database(self.name)

    # --- the database being away -----------------------------------------------------------------------

    def cut_database(self, application_prefix: str = "engine") -> None:
        """Refuse new connections to the database and drop the engines' open ones (a failover, an outage)."""
        with psycopg.connect(support.PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                         "AND application_name LIKE %s", (self.name, f"{application_prefix}%"))

    def restore_database(self) -> None:
        with psycopg.connect(support.PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')

    # --- the world the engines page about --------------------------------------------------------------

    def prepare(self, phones: int) -> list[int]:
        """Migrate, then `phones` people with a verified SMS number at 0 minutes, each with a policy paging
        them alone (one step, a long wait: nothing else falls due). Returns the policy ids."""
        import flask_migrate

        with self.app.app_context():
            flask_migrate.upgrade()
            policy_ids = []
            for n in range(phones):
                person = auth.create_user(role=Role.RESPONDER, email=f"phone{n}@example.com", name=f"Phone {n}",
                                          password="correct horse battery")
                method = ContactMethod(user_id=person.id, kind=ContactKind.SMS, address=f"+1415556{n:04d}",
                                       verified_at=utcnow())
                db.session.add(method)
                db.session.flush()
                db.session.add(NotificationRule(user_id=person.id, contact_method_id=method.id, delay_minutes=0))
                db.session.commit()
                oncall.confirm_contacts(person, person)
                policy = policies.save_policy(None, name=f"Phone {n}", repeat=0,
                                              steps=[{"delay_minutes": 60, "targets": [{"user_id": person.id}]}])
                policy_ids.append(policy.id)
            db.session.remove()
        return policy_ids

    def raise_alerts(self, count: int, policy_ids: list[int], *, batches: int = 1, pause: float = 0.0,
                     start: int = 0) -> list[int]:
        """Raise `count` alerts (alert i pages phone i mod phones) in `batches` commits; their ids."""
        ids = []
        with self.app.app_context():
            per_batch = max(count // batches, 1)
            for first in range(start, start + count, per_batch):
                batch = []
                for i in range(first, min(first + per_batch, start + count)):
                    alert, _created = raise_alert(summary=f"Job {i} missed its run", source="api",
                                                  dedup_key=f"fleet-{i}",
                                                  escalation_policy_id=policy_ids[i % len(policy_ids)])
                    batch.append(alert.id)
                db.session.commit()
                now = time.monotonic()
                for alert_id in batch:
                    self.raised_at[alert_id] = now
                ids += batch
                if pause:
                    time.sleep(pause)
            db.session.remove()
        return ids

    def wait_until(self, condition, timeout: float, poll: float = 0.005) -> bool:
        """Poll a query (run in an app context, session reset each time) until it is true."""
        deadline = time.monotonic() + timeout
        with self.app.app_context():
            while time.monotonic() < deadline:
                try:
                    if condition():
                        return True
                finally:
                    db.session.rollback()
                time.sleep(poll)
            db.session.remove()
        return False

    def claimed_by(self, name: str, *, bundled: bool = False):
        """A condition: the engine `name` holds a claim (and, with `bundled`, has folded pages into a bundle)."""
        pid = self.pid(name)

        def held() -> bool:
            query = select(OutboundMessage.id).where(OutboundMessage.status == MessageStatus.SENDING.value,
                                                     OutboundMessage.claimed_by.like(f"%:{pid}:%"))
            if bundled:
                query = query.where(OutboundMessage.bundled_into_id.is_not(None))
            return db.session.scalar(query.limit(1)) is not None

        return held

    def settled(self) -> bool:
        open_count = db.session.scalar(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.purpose == "alert",
            OutboundMessage.status.in_((MessageStatus.PENDING.value, MessageStatus.SENDING.value))))
        return open_count == 0

    # --- counting ----------------------------------------------------------------------------------------

    def recoveries(self) -> dict[str, int]:
        """How the outbox healed: claims freed after their lease ran out, sends settled by a delivery report."""
        from app.alerting.models import AlertEvent

        with self.app.app_context():
            texts = list(db.session.scalars(select(AlertEvent.text).where(AlertEvent.kind.in_(("retry", "notified")))))
            db.session.remove()
        return {"freed_after_lease": sum("stopped before recording" in text for text in texts),
                "settled_by_report": sum("confirmed sent by its delivery report" in text for text in texts)}

    def tally(self) -> Tally:
        """Compare what the stand-in accepted with what the outbox says: expected, sent, lost, sent twice."""
        with self.app.app_context():
            rows = {row.id: row for row in db.session.scalars(
                select(OutboundMessage).where(OutboundMessage.purpose == "alert"))}
            alert_count = db.session.scalar(select(func.count()).select_from(Alert).where(
                or_(Alert.dedup_key.is_(None), Alert.dedup_key.like("fleet-%"))))
            db.session.remove()
        accepted = self.twilio.messages + self.twilio.calls
        sent_rows = {row_id for row_id, row in rows.items() if row.status in SENT_STATES}
        carried: dict[int, int] = {}  # page row -> the sent row that carried it
        for row_id, row in rows.items():
            if row.status in SENT_STATES:
                carried[row_id] = row_id
            elif row.status == MessageStatus.BUNDLED.value and row.bundled_into_id in sent_rows:
                carried[row_id] = row.bundled_into_id
        lost = len(rows) - len(carried)
        received: dict[int, float] = {}
        by_message = Counter(record.message_id for record in accepted)
        for record in accepted:
            received.setdefault(record.message_id, record.received_at)
            received[record.message_id] = min(received[record.message_id], record.received_at)
        delays = [received[carrier] - self.raised_at[rows[page].alert_id]
                  for page, carrier in carried.items()
                  if carrier in received and rows[page].alert_id in self.raised_at]
        notes = []
        unreceived = [row_id for row_id in sent_rows if row_id not in by_message]
        if unreceived:
            notes.append(f"rows sent by the table but never received: {unreceived[:10]}")
        mismatched = [row_id for row_id in sent_rows
                      if row_id in by_message and rows[row_id].provider_ref not in
                      {record.sid for record in accepted if record.message_id == row_id}]
        if mismatched:
            notes.append(f"rows whose provider reference is not what the stand-in answered: {mismatched[:10]}")
        refused = sum(1 for _message_id, status in self.twilio.reports if status not in (204, 0))
        return Tally(expected=len(rows), sent=len(sent_rows), duplicates=len(accepted) - len(sent_rows) - 0,
                     lost=lost + len(unreceived), max_delay_s=max(delays, default=0.0), requests=len(accepted),
                     refused_reports=refused, notes=notes + ([f"{alert_count} alerts"] if alert_count else []))
