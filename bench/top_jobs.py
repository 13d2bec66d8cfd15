"""Top jobs and the by-day duration chart at scale: server time of reliability.top_jobs over 30 days, 90 days and a
year, and of history.daily_duration_trend for one job, with 1,000,000 runs and two years of daily rows.

Fills a fresh database (SQLite by default, or PostgreSQL with --backend postgresql, created on 127.0.0.1:5432 and
dropped at the end) with bench/watchlist_pings.py's filler (--jobs jobs, --runs runs over the last 35 days), then
adds one daily row per job and day from day 36 to day 730 back, as the roll-up leaves them, and runs ANALYZE. Each
figure is the median of --repeat calls in-process. The baseline, timed the same way in the same run, is the former
way of ranking by p95: every duration of the period read into Python and sorted per job.
Run: `.venv/bin/python bench/top_jobs.py [--backend postgresql] [--jobs 1000] [--runs 1000000]`.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import risks_register, watchlist_pings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--jobs", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with risks_register.bench_database(args.backend) as url:
        run(url, args)


def _add_day_rows() -> int:
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.timeutil import utcnow
    from app.watchlist.models import Job, JobRunDay

    today = utcnow().date()
    job_ids = list(db.session.scalars(select(Job.id)))
    rows = 0
    for back in range(36, 731):
        day = today - timedelta(days=back)
        db.session.execute(insert(JobRunDay), [
            {"job_id": job_id, "day": day, "runs": 24, "failures": job_id % 3, "late": 0, "timed": 24,
             "duration_total_seconds": 24 * 300.0, "duration_max_seconds": 300.0 + back} for job_id in job_ids])
        rows += len(job_ids)
    db.session.commit()
    return rows


def _former_p95(days: int) -> dict[int, float]:
    """The former way: every duration of the period into Python, sorted per job."""
    from sqlalchemy import select

    from app.extensions import db
    from app.timeutil import utcnow
    from app.watchlist.models import JobRun

    since = utcnow() - timedelta(days=days)
    durations: dict[int, list[float]] = {}
    for job_id, seconds in db.session.execute(select(JobRun.job_id, JobRun.duration_seconds).where(
            JobRun.ended_at >= since, JobRun.duration_seconds.is_not(None))):
        durations.setdefault(job_id, []).append(seconds)
    return {job_id: sorted(values)[max(math.ceil(0.95 * len(values)) - 1, 0)] for job_id, values in durations.items()}


def _median_ms(call, repeat: int) -> float:
    from app.extensions import db

    times = []
    for _ in range(repeat):
        db.session.expire_all()
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return statistics.median(times)


def run(url: str, args) -> None:
    from app import create_app
    from app.extensions import db
    from app.watchlist import history, reliability, services

    watchlist_pings.fill_detection_database(url, args.jobs, args.runs)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url}, env=risks_register.BASE_ENV)
    with app.app_context():
        started = time.perf_counter()
        rows = _add_day_rows()
        print(f"  {rows:,} daily rows inserted in {time.perf_counter() - started:.1f} s")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
        job = services.get_job(1)
        print(f"{db.engine.dialect.name}, {args.jobs:,} jobs, {args.runs:,} runs, {rows:,} daily rows "
              f"(median of {args.repeat}):")
        print(f"  former p95 (durations into Python), 30 days   {_median_ms(lambda: _former_p95(30), args.repeat):8.1f} ms")
        for period in reliability.PERIODS:
            ms = _median_ms(lambda period=period: reliability.top_jobs(period=period), args.repeat)
            print(f"  top_jobs(period={period!r}){' ' * (26 - len(period))}{ms:8.1f} ms")
        ms = _median_ms(lambda: history.daily_duration_trend(job), args.repeat)
        print(f"  daily_duration_trend (one job, 730 days)      {ms:8.1f} ms")
        ms = _median_ms(lambda: history.duration_trend(job), args.repeat)
        print(f"  duration_trend (one job, last 60 runs)        {ms:8.1f} ms")


if __name__ == "__main__":
    main()
