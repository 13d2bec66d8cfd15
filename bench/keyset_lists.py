"""The two fastest-growing lists at scale: the audit log and a job's run history, first page and a deep page.

A fresh database (SQLite by default, or PostgreSQL with --backend postgresql: a database this script creates on
127.0.0.1:5432 and drops at the end) gets --events audit events over six record types and --runs runs of one job,
bulk-inserted and analysed. In-process (Flask's test client, signed in as an administrator), each page is fetched
--requests times and its median printed: the first page, and a page 90% of the way down reached by its cursor; then
the list's own keyset statement alone, and what the same rows cost when the page read them by number (db.paginate:
COUNT, then OFFSET), on the same data; and the SQL statements each page sends.

Run: `.venv/bin/python bench/keyset_lists.py [--events 200000] [--runs 500000] [--requests 20] [--backend sqlite]`
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import risks_register  # noqa: E402  (the repository root is put on the path first)

PASSWORD = risks_register.PASSWORD
BASE_ENV = risks_register.BASE_ENV
TYPES = ["risks", "regions", "vendors", "dr_exercises", "users", "incidents"]
BATCH = 20_000


def fill(db, events: int, runs: int) -> int:
    """The schema, an administrator, the audit trail and one job's runs; returns the job's id."""
    from sqlalchemy import insert

    from app.audit.models import AuditEvent
    from app.auth import services as auth
    from app.timeutil import utcnow
    from app.watchlist import services as watchlist
    from app.watchlist.models import JobRun

    db.create_all()
    auth.create_user(email="admin@bench.example", name="Bench Admin", role="admin", password=PASSWORD)
    owner = watchlist.save_app(None, name="ERP")
    job = watchlist.save_job(None, app_id=owner.id, name="billing-run", schedule_kind="interval",
                             interval_minutes=5, grace_minutes=5, max_duration_minutes=30)
    rng, start = random.Random(events), utcnow() - timedelta(days=365)
    for offset in range(0, events, BATCH):
        db.session.execute(insert(AuditEvent.__table__), [
            {"occurred_at": start + timedelta(seconds=30 * number), "actor_label": f"person{number % 40}",
             "action": rng.choice(["create", "update", "delete"]), "entity_type": rng.choice(TYPES),
             "entity_id": str(number % 5000), "entity_label": f"record {number % 5000}", "changes": {}}
            for number in range(offset, min(offset + BATCH, events))])
    for offset in range(0, runs, BATCH):
        db.session.execute(insert(JobRun.__table__), [
            {"job_id": job.id, "started_at": start + timedelta(minutes=number), "ended_at": start
             + timedelta(minutes=number, seconds=20), "duration_seconds": 20.0, "outcome": "success", "late": False,
             "too_slow": False, "too_fast": False, "log": ""} for number in range(offset, min(offset + BATCH, runs))])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return job.id


def median_ms(action, count: int) -> float:
    action()  # warm-up
    times = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def statements(db, client, path: str) -> int:
    from sqlalchemy import event

    seen: list[int] = []
    listener = lambda *args: seen.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()

    from sqlalchemy import select

    from app import create_app
    from app.audit import services as audit
    from app.extensions import db
    from app.keyset import encode_cursor
    from app.watchlist import history
    from app.watchlist.models import Job, JobRun

    with risks_register.bench_database(args.backend, "qd_bench_keyset") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                          "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}, env=BASE_ENV)
        with app.app_context():
            started = time.perf_counter()
            job_id = fill(db, args.events, args.runs)
            print(f"{args.backend}: {args.events:,} audit events and {args.runs:,} runs of one job loaded in "
                  f"{time.perf_counter() - started:.1f} s\n")
            client = app.test_client()
            assert client.post("/login", data={"email": "admin@bench.example", "password": PASSWORD}
                               ).status_code == 302
            depth_events, depth_runs = int(args.events * 0.9), int(args.runs * 0.9)
            deep_event = db.session.execute(audit.filtered_events(audit.AuditFilter()).offset(depth_events - 1)
                                            .limit(1)).scalar_one()
            deep_run = db.session.execute(select(JobRun).where(JobRun.job_id == job_id)
                                          .order_by(*history.RUN_ORDER).offset(depth_runs - 1).limit(1)).scalar_one()
            events_cursor = encode_cursor([deep_event.occurred_at, deep_event.id])
            runs_cursor = encode_cursor([deep_run.id])
            whole, typed = audit.AuditFilter(), audit.AuditFilter(entity_type="vendors")
            job = db.session.get(Job, job_id)
            cases = [
                ("/admin/audit (first page)", "/admin/audit",
                 lambda: audit.events_page(whole),
                 lambda: db.paginate(audit.filtered_events(whole), page=1, per_page=50, error_out=False)),
                (f"/admin/audit (page at row {depth_events:,})", f"/admin/audit?after={events_cursor}",
                 lambda: audit.events_page(whole, after=events_cursor),
                 lambda: db.paginate(audit.filtered_events(whole), page=depth_events // 50, per_page=50,
                                     error_out=False)),
                ("/admin/audit?entity_type=vendors (deep)", f"/admin/audit?entity_type=vendors&after={events_cursor}",
                 lambda: audit.events_page(typed, after=events_cursor),
                 lambda: db.paginate(audit.filtered_events(typed), page=depth_events // 50 // len(TYPES),
                                     per_page=50, error_out=False)),
                ("job page (first page of runs)", f"/watchlist/jobs/{job_id}",
                 lambda: history.runs_page(job), lambda: history.list_runs(job, page=1)),
                (f"job page (runs at row {depth_runs:,})", f"/watchlist/jobs/{job_id}?after={runs_cursor}",
                 lambda: history.runs_page(job, after=runs_cursor),
                 lambda: history.list_runs(job, page=depth_runs // 50)),
            ]
            print(f"{'page':<44} {'request ms':>10} {'statements':>10} {'list ms':>8} {'by number ms':>12}")
            for label, path, paged, numbered in cases:
                request = median_ms(lambda: client.get(path), args.requests)  # noqa: B023
                print(f"{label:<44} {request:>10.1f} {statements(db, client, path):>10} "
                      f"{median_ms(paged, args.requests):>8.1f} {median_ms(numbered, args.requests):>12.1f}")
            print("\n(request: the whole page, rendering included; list: the keyset page's statement alone; by "
                  "number: the same rows\n by COUNT and OFFSET, as the page read them before)")
            db.engine.dispose()


if __name__ == "__main__":
    main()
