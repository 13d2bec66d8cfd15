"""The readiness page at scale: server time and SQL queries of /readiness and GET /api/v1/readiness with the large
data set of the other benchmarks (10,000 risks with history and actions, 10,000 jobs with run history).

Fills a fresh database (SQLite by default, or PostgreSQL with --backend postgresql, created on 127.0.0.1:5432 and
dropped at the end) with bench/risks_register.py's and bench/watchlist_pings.py's own fillers, marks 1% of runs
failed and 1% of jobs down, runs ANALYZE on PostgreSQL, then times each page in-process (the median of
--requests calls) and counts its SQL statements. The baseline, timed the same way in the same run, is the bare Flask
endpoint of bench/bare_app.py through its own test client. Run: `.venv/bin/python bench/readiness_page.py [--backend postgresql]`.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, update  # noqa: E402

from bench import risks_register, watchlist_pings  # noqa: E402
from bench.bare_app import app as bare_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--risks", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    with risks_register.bench_database(args.backend) as url:
        run(url, args)


def run(url: str, args) -> None:
    from app import create_app
    from app.extensions import db
    from app.watchlist.models import Job, JobRun

    risks_register.fill(url, args.risks, 10)
    watchlist_pings.fill_detection_database(url, args.jobs, args.runs)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False}, env=risks_register.BASE_ENV)
    with app.app_context():
        db.session.execute(update(JobRun).where(JobRun.id % 100 == 0).values(outcome="failed"))
        db.session.execute(update(Job).where(Job.id % 100 == 0).values(state="down", down_reason="missed"))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # Outside a transaction: statistics gathered inside one that rolls back are rolled back with it.
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        statements = {"n": 0}

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(*_args, **_kwargs):
            statements["n"] += 1

        client = app.test_client()
        client.post("/login", data={"email": "admin@bench.example", "password": risks_register.PASSWORD})
        bearer = {"Authorization": f"Bearer {token(app)}"}
        print(f"{db.engine.dialect.name}: {args.risks:,} risks, {args.jobs:,} jobs, {args.runs:,} runs")
        baseline = statistics.median(time_requests(bare_app.test_client(), "/bare", {}, args.requests))
        print(f"  {'bare Flask /bare':<20} median {baseline * 1000:7.2f} ms")
        for path in ("/readiness", "/api/v1/readiness"):
            statements["n"] = 0
            samples = time_requests(client, path, bearer if path.startswith("/api/") else {}, args.requests)
            median = statistics.median(samples)
            print(f"  {path:<20} median {median * 1000:7.1f} ms   "
                  f"p95 {sorted(samples)[int(len(samples) * .95) - 1] * 1000:7.1f} ms   "
                  f"{statements['n'] // args.requests} SQL statements   {median / baseline:,.0f}x the bare endpoint")


def time_requests(client, path: str, headers: dict, count: int) -> list[float]:
    """Seconds each of `count` GETs of `path` took, in-process; every one must answer 200."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return samples


_TOKEN: dict[str, str] = {}


def token(app) -> str:
    if "raw" not in _TOKEN:
        from app.auth import services as auth
        from app.auth.services import find_user_by_email
        _token, _TOKEN["raw"] = auth.create_token(find_user_by_email("admin@bench.example"), name="readiness bench")
    return _TOKEN["raw"]


if __name__ == "__main__":
    main()
