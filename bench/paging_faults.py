"""Paging under faults: kill -9 of one of two schedulers mid-drain, and PostgreSQL refusing connections mid-drain.

Each scenario runs on a fresh PostgreSQL database (127.0.0.1:5432, trust auth; QD_TEST_PG_ADMIN overrides it)
with two real `flask scheduler run` processes using the default engine configuration (lease 60 s; throttles
off), the stand-in Twilio server answering each request after a random 100-250 ms and posting Twilio's
delivery report to a web server, as Twilio does. Alerts (ALERTS × PHONES: alert i pages phone i mod PHONES)
are raised in batches while the engines drain them.

- kill-claimed / kill-bundled: whichever engine is first seen holding a claim (or a bundle) is killed with
  SIGKILL at that moment; the other carries on (and recovers the dead one's claims once their lease runs out).
- database-outage: PostgreSQL refuses the engines' connections (ALLOW_CONNECTIONS false and their sessions
  terminated) for --outage seconds, mid-drain; then it is back.

Prints one line per scenario: `scenario=<name> expected=N sent=N duplicates=N lost=N max_delay_s=X`, where
expected counts pages (outbox rows), sent the messages the outbox records as sent, duplicates the messages the
stand-in accepted beyond those, lost the pages neither sent nor carried by a sent bundle, and max_delay_s the
longest time from an alert's raise to the phone receiving it.

Run: `.venv/bin/python bench/paging_faults.py [--quick] [--alerts 200] [--phones 5] [--outage 30]`
(`--quick`: 100 alerts, a 10 s outage and a 15 s lease, in under two minutes).
"""
from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import support  # noqa: E402
from tests.paging_fleet import Fleet  # noqa: E402

NAMES = ["engine-a", "engine-b"]


def _start(fleet: Fleet, args) -> list[int]:
    policy_ids = fleet.prepare(args.phones)
    for name in NAMES:
        fleet.start_engine(name)
    fleet.wait_running(NAMES)
    return policy_ids


def _settle(fleet: Fleet, timeout: float) -> None:
    if not fleet.wait_until(fleet.settled, timeout, poll=0.25):
        print(f"  (pages still pending after {timeout:.0f} s)", file=sys.stderr)
    time.sleep(1.0)  # a second send, if there were one, would arrive now


def kill_scenario(args, moment: str) -> str:
    with tempfile.TemporaryDirectory(prefix="qd-faults-") as tmp:
        fleet = Fleet(Path(tmp), lease_seconds=args.lease, concurrency=args.concurrency, wait_for_disk=True)
        try:
            policy_ids = _start(fleet, args)
            quarter = args.alerts // 4
            fleet.raise_alerts(quarter, policy_ids, batches=5, pause=0.1)
            fleet.raise_alerts(quarter, policy_ids, batches=1, start=quarter)
            victim, deadline = None, time.monotonic() + 60
            while victim is None and time.monotonic() < deadline:
                for name in NAMES:
                    if fleet.wait_until(fleet.claimed_by(name, bundled=moment == "bundled"), 0.02, poll=0.002):
                        fleet.kill(name)
                        victim = name
                        break
            if victim is None:
                return f"scenario=kill-{moment} no engine was seen {moment} a message"
            fleet.raise_alerts(args.alerts - 2 * quarter, policy_ids, batches=10, pause=0.1, start=2 * quarter)
            _settle(fleet, args.lease + 120)
            fleet.stop(NAMES[1] if victim == NAMES[0] else NAMES[0])
            tally = fleet.tally()
            return f"{tally.line(f'kill-{moment}')}  # recovered: {fleet.recoveries()}"
        finally:
            fleet.close()


def outage_scenario(args) -> str:
    with tempfile.TemporaryDirectory(prefix="qd-faults-") as tmp:
        fleet = Fleet(Path(tmp), lease_seconds=args.lease, concurrency=args.concurrency, wait_for_disk=True)
        try:
            policy_ids = _start(fleet, args)
            half = args.alerts // 2
            fleet.raise_alerts(half, policy_ids, batches=10, pause=0.1)
            fleet.wait_until(lambda: any(fleet.claimed_by(name)() for name in NAMES), 30)
            fleet.cut_database()
            cut_at = time.monotonic()
            # Raised during the outage (this process keeps its connections): pending until the engines are back.
            fleet.raise_alerts(args.alerts - half, policy_ids, batches=10, pause=0.1, start=half)
            time.sleep(max(args.outage - (time.monotonic() - cut_at), 0))
            fleet.restore_database()
            restored_at = time.monotonic()
            _settle(fleet, 120)
            for name in NAMES:
                fleet.stop(name)
            tally = fleet.tally()
            hit = sum("the database is unreachable" in fleet.log_of(name) for name in NAMES)
            last = max((record.received_at for record in fleet.twilio.messages), default=restored_at)
            return (f"{tally.line('database-outage')}  # all out {last - restored_at:.1f} s after the database came "
                    f"back; engines that met the outage: {hit} of 2")
        finally:
            fleet.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller and shorter: under two minutes")
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--phones", type=int, default=5)
    parser.add_argument("--outage", type=float, default=30.0, help="seconds the database refuses the engines")
    parser.add_argument("--lease", type=int, default=60, help="ENGINE_LEASE_SECONDS (the default is 60)")
    parser.add_argument("--concurrency", type=int, default=48, help="ENGINE_SEND_CONCURRENCY (the default is 48)")
    args = parser.parse_args()
    if args.quick:
        args.alerts, args.outage, args.lease = min(args.alerts, 100), min(args.outage, 10.0), min(args.lease, 15)
    if reason := support.postgres_unavailable_reason():
        raise SystemExit(reason)
    print("$ " + shlex.join([Path(sys.executable).name, *sys.argv]))
    print(f"# {args.alerts} alerts x {args.phones} phones, two engines, lease {args.lease} s, concurrency "
          f"{args.concurrency}, provider 100-250 ms, outage {args.outage:g} s")
    started = time.monotonic()
    for line in (kill_scenario(args, "claimed"), kill_scenario(args, "bundled"), outage_scenario(args)):
        print(line, flush=True)
    print(f"# {time.monotonic() - started:.0f} s in all")


if __name__ == "__main__":
    main()
