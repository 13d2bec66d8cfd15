"""Paging under faults, with real scheduler processes on PostgreSQL and a provider answering in 100-250 ms.

kill -9 of one of two engines (right after it claimed, right after it bundled) and the database refusing the
engines for a few seconds: no page is lost, at most one message per killed process is sent twice, the outbox
agrees with what the phones received, and what was pending goes out within a lease and a pass of the
survivor. bench/paging_faults.py runs the same scenarios bigger and prints the figures.
"""
from __future__ import annotations

import time

import pytest

from tests import support
from tests.conftest import require
from tests.paging_fleet import Fleet

ALERTS, PHONES, BATCHES, PAUSE = 200, 5, 20, 0.15
LEASE = 10  # seconds: the shortest lease the configuration allows keeps the test short


@pytest.fixture
def fleet(tmp_path):
    require(support.postgres_unavailable_reason())
    fleet = Fleet(tmp_path, lease_seconds=LEASE)
    try:
        yield fleet
    finally:
        fleet.close()


def _settle(fleet: Fleet, timeout: float) -> float:
    """Wait until no page is pending or being sent; the seconds it took."""
    started = time.monotonic()
    assert fleet.wait_until(fleet.settled, timeout, poll=0.2), "pages were still pending when the wait ended"
    time.sleep(1.0)  # a second send, if there were one, would arrive now
    return time.monotonic() - started


@pytest.mark.parametrize("moment", ["claimed", "bundled"])
def test_killing_one_of_two_engines_mid_drain_loses_no_page(fleet, moment):
    policy_ids = fleet.prepare(PHONES)
    fleet.start_engine("engine-a")
    fleet.start_engine("engine-b")
    fleet.wait_running(["engine-a", "engine-b"])
    fleet.raise_alerts(ALERTS // 4, policy_ids, batches=5, pause=PAUSE)
    # Whichever engine takes the next claim (or bundle) is killed the moment it has.
    victim = None
    deadline = time.monotonic() + 30
    fleet.raise_alerts(ALERTS // 4, policy_ids, batches=1, start=ALERTS // 4)  # a flood: bundles form
    while victim is None and time.monotonic() < deadline:
        for name in ("engine-a", "engine-b"):
            if fleet.wait_until(fleet.claimed_by(name, bundled=moment == "bundled"), 0.02, poll=0.002):
                fleet.kill(name)
                victim = name
                break
    assert victim is not None, f"no engine was seen {moment} a message"
    killed_at = time.monotonic()
    fleet.raise_alerts(ALERTS // 2, policy_ids, batches=BATCHES // 2, pause=PAUSE, start=ALERTS // 2)

    _settle(fleet, timeout=LEASE + 30)
    survivor = "engine-b" if victim == "engine-a" else "engine-a"
    assert fleet.stop(survivor) == 0, fleet.log_of(survivor)
    tally = fleet.tally()

    print(f"\n{tally.line(f'kill-{moment}')} requests={tally.requests} "
          f"settled_after_kill_s={time.monotonic() - killed_at:.1f} {tally.notes}")
    assert tally.lost == 0, tally.notes
    assert tally.duplicates <= 1, tally
    assert tally.notes == [f"{ALERTS} alerts"], tally.notes  # every sent row was received, with its sid
    assert tally.max_delay_s <= LEASE + 10, tally  # a lease and a pass of the survivor, with room to spare
    assert "Traceback" not in fleet.log_of(survivor)
    recoveries = fleet.recoveries()
    assert sum(recoveries.values()) >= 1, f"the kill found no work in flight to recover: {recoveries}"


def test_the_database_refusing_the_engines_for_seconds_loses_nothing_and_sends_nothing_twice(fleet):
    policy_ids = fleet.prepare(PHONES)
    fleet.start_engine("engine-a")
    fleet.start_engine("engine-b")
    fleet.wait_running(["engine-a", "engine-b"])
    fleet.raise_alerts(ALERTS // 2, policy_ids, batches=BATCHES // 2, pause=PAUSE)
    sending = fleet.wait_until(lambda: fleet.claimed_by("engine-a")() or fleet.claimed_by("engine-b")(), 20)
    assert sending, "no engine was seen sending"

    fleet.cut_database()  # mid-drain: sends in flight finish, their outcomes cannot be written
    cut_at = time.monotonic()
    # Raised meanwhile (this process keeps its own connections): pending until the engines are back.
    fleet.raise_alerts(ALERTS // 2, policy_ids, batches=BATCHES // 2, pause=0.05, start=ALERTS // 2)
    time.sleep(max(4 - (time.monotonic() - cut_at), 0))
    fleet.restore_database()
    restored_at = time.monotonic()
    _settle(fleet, timeout=60)
    last = max(record.received_at for record in fleet.twilio.messages)
    assert fleet.stop("engine-a") == 0 and fleet.stop("engine-b") == 0
    tally = fleet.tally()

    print(f"\n{tally.line('database-outage')} requests={tally.requests} "
          f"settled_after_restore_s={time.monotonic() - restored_at:.1f} {tally.notes}")
    assert tally.lost == 0, tally.notes
    assert tally.duplicates == 0, tally
    assert tally.notes == [f"{ALERTS} alerts"], tally.notes
    assert tally.max_delay_s <= 30, tally
    assert last - restored_at <= 30, "pages pending during the outage went out late"
    logs = fleet.log_of("engine-a") + fleet.log_of("engine-b")
    assert "the database is unreachable" in logs, "the outage reached no engine: the test tested nothing"
