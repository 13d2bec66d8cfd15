"""Ping throughput of the watch list against a bare Flask app, and the cost of one detection pass at scale.

Part 1 — pings: three gunicorn servers on 127.0.0.1, each with 2 workers and --no-control-socket: the bare
Flask endpoint of bench/bare_app.py, Quarterdeck on SQLite (WAL, a fresh file) and Quarterdeck on PostgreSQL
(a database this script creates on 127.0.0.1:5432 and drops at the end). Each is driven by `wrk` with the same
load (8 connections, 2 threads, 10 s), three runs interleaved, and the medians of requests/s and p99 latency
are printed with the ratio ping/hello. The pings rotate over 100 jobs (a Lua script), as real cron jobs would.

Part 2 — detection: 10,000 jobs and 1,000,000 stored runs, bulk-inserted (executemany on SQLite, COPY on
PostgreSQL); then one pass with nothing due (the usual case), one with 100 jobs due, and one catch-up pass with
every job overdue (one grouped alert), timed in-process on each database.

Run: `.venv/bin/python bench/watchlist_pings.py [--duration 10] [--runs 3] [--jobs 10000] [--runs-stored 1000000]`
Needs `wrk` (`apt-get install -y wrk`) and PostgreSQL on 127.0.0.1:5432 (QD_TEST_PG_ADMIN overrides).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("QD_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PING_JOBS = 100
BASE_ENV = {"SECRET_KEY": "bench-secret-key-not-for-production", "PING_RATE_LIMIT": "100000000 per minute",
            "LOG_LEVEL": "WARNING"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(target: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--no-control-socket",
         "--log-level", "warning", target], cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gunicorn for {target} did not start")


def make_app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url}, env={**BASE_ENV})


def prepare_ping_database(url: str) -> list[str]:
    """Tables and PING_JOBS jobs; returns their ping paths."""
    from app.extensions import db
    from app.watchlist import services

    app = make_app(url)
    with app.app_context():
        db.create_all()  # the benchmark builds its own schema from the models
        owner_app = services.save_app(None, name="Bench")
        paths = []
        for index in range(PING_JOBS):
            job = services.save_job(None, app_id=owner_app.id, name=f"Job {index}", schedule_kind="interval",
                                    interval_minutes=60, grace_minutes=15, max_duration_minutes=30)
            paths.append(f"/ping/{job.ping_key}")
        db.engine.dispose()
    return paths


def create_pg_database(prefix: str) -> tuple[str, str]:
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return name, f"{base}/{name}"


def drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_lua(paths: list[str], folder: Path) -> Path:
    script = folder / "rotate.lua"
    listed = ",\n".join(f'  "{path}"' for path in paths)
    script.write_text(f"paths = {{\n{listed}\n}}\ni = 0\nrequest = function()\n  i = i % #paths + 1\n"
                      "  return wrk.format(\"GET\", paths[i])\nend\n")
    return script


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, seconds: int, script: Path | None = None) -> tuple[float, float]:
    command = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency"] + (["-s", str(script)] if script else []) + [url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} responses were not 200; the benchmark would time the wrong thing")
    return rate, to_ms(*p99.groups())


def warm_up(endpoints: dict, targets: dict) -> None:
    """Load the app and open database connections in every worker before timing anything."""
    import urllib.request

    for label, (url, _script) in endpoints.items():
        paths = targets[label][2] or [""]
        for index in range(20):
            with urllib.request.urlopen(url + paths[index % len(paths)], timeout=30) as response:
                response.read()


def bench_pings(seconds: int, runs: int) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    folder = Path(tempfile.mkdtemp(prefix="qd-bench-"))
    pg_name, pg_url = create_pg_database("qd_bench_pings")
    servers = []
    try:
        sqlite_url = f"sqlite:///{folder / 'pings.db'}"
        targets = {"hello (bare Flask)": ("bench.bare_app:app", None, None),
                   "ping, SQLite (WAL)": ("wsgi:app", sqlite_url, prepare_ping_database(sqlite_url)),
                   "ping, PostgreSQL": ("wsgi:app", pg_url, prepare_ping_database(pg_url))}
        endpoints = {}
        for label, (target, url, paths) in targets.items():
            port = free_port()
            env = {**os.environ, **BASE_ENV, **({"DATABASE_URL": url} if url else {})}
            servers.append(start_gunicorn(target, port, env))
            script = write_lua(paths, folder) if paths else None
            if script:
                script = script.rename(folder / f"rotate-{port}.lua")
            endpoints[label] = (f"http://127.0.0.1:{port}" + ("" if paths else "/bare"), script)
        warm_up(endpoints, targets)
        samples: dict[str, list[tuple[float, float]]] = {label: [] for label in endpoints}
        for _ in range(runs):  # interleaved, so a noisy neighbour hurts every server alike
            for label, (url, script) in endpoints.items():
                samples[label].append(run_wrk(url, seconds, script))
        print(f"\nPings: wrk, 8 connections, {seconds} s, {runs} runs (medians); gunicorn 2 workers each")
        print(f"{'server':<22}{'requests/s':>12}{'p99 ms':>10}{'ping/hello':>12}")
        hello_rate = statistics.median(rate for rate, _ in samples["hello (bare Flask)"])
        for label, values in samples.items():
            rate = statistics.median(v[0] for v in values)
            p99 = statistics.median(v[1] for v in values)
            print(f"{label:<22}{rate:>12.0f}{p99:>10.1f}{rate / hello_rate:>12.2f}")
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)
        drop_pg_database(pg_name)
        shutil.rmtree(folder, ignore_errors=True)


# --- detection at scale -------------------------------------------------------------------------------------------

def fill_detection_database(url: str, jobs: int, stored_runs: int) -> None:
    """`jobs` up jobs, all due in an hour, and `stored_runs` runs spread over them, inserted in bulk."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.timeutil import utcnow
    from app.watchlist.models import Job, JobRun, WatchedApp

    app = make_app(url)
    with app.app_context():
        db.create_all()
        now = utcnow()
        db.session.execute(insert(WatchedApp), [{"name": "Bench", "criticality": "high", "description": "",
                                                 "runbook_url": "", "created_at": now}])
        app_id = db.session.scalar(db.select(WatchedApp.id))
        db.session.execute(insert(Job), [
            {"app_id": app_id, "name": f"Job {i}", "description": "", "criticality": "high",
             "schedule_kind": "interval", "interval_seconds": 3600, "time_zone": "UTC", "grace_seconds": 900,
             "max_duration_seconds": 1800, "failures_before_paging": 1, "paused": False,
             "ping_key": str(uuid.uuid4()), "badge_key": uuid.uuid4().hex, "created_at": now, "state": "up",
             "due_at": now + timedelta(hours=1), "next_deadline": now + timedelta(hours=1),
             "consecutive_failures": 0} for i in range(jobs)])
        db.session.commit()
        job_ids = list(db.session.scalars(db.select(Job.id)))
        started = time.perf_counter()
        if db.engine.dialect.name == "postgresql":
            _copy_runs(job_ids, stored_runs, now)
        else:
            chunk = 50_000
            for first in range(0, stored_runs, chunk):
                db.session.execute(insert(JobRun), [_run_row(job_ids, i, now)
                                                    for i in range(first, min(first + chunk, stored_runs))])
            db.session.commit()
        print(f"  {db.engine.dialect.name}: {jobs:,} jobs and {stored_runs:,} runs inserted in "
              f"{time.perf_counter() - started:.1f} s")
        db.engine.dispose()


def _run_row(job_ids: list[int], i: int, now) -> dict:
    ended = now - timedelta(minutes=i % 50_000)
    return {"job_id": job_ids[i % len(job_ids)], "started_at": ended - timedelta(minutes=5), "ended_at": ended,
            "duration_seconds": 300.0, "outcome": "success", "exit_code": 0, "late": False, "too_slow": False,
            "too_fast": False, "log": ""}


def _copy_runs(job_ids: list[int], stored_runs: int, now) -> None:
    from app.extensions import db

    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        columns = "job_id, started_at, ended_at, duration_seconds, outcome, exit_code, late, too_slow, too_fast, log"
        with cursor.copy(f"COPY watch_job_runs ({columns}) FROM STDIN") as copy:
            for i in range(stored_runs):
                row = _run_row(job_ids, i, now)
                copy.write_row([row["job_id"], row["started_at"], row["ended_at"], 300.0, "success", 0, False,
                                False, False, ""])
        raw.commit()
    finally:
        raw.close()


def time_detection(url: str, label: str) -> None:
    from sqlalchemy import update

    from app.extensions import db
    from app.timeutil import utcnow
    from app.watchlist.detection import run_detection_pass
    from app.watchlist.models import Job

    app = make_app(url)
    with app.app_context():
        now = utcnow()

        def timed_pass(at) -> tuple[float, dict]:
            started = time.perf_counter()
            summary = run_detection_pass(at)
            return (time.perf_counter() - started) * 1000, summary

        idle = statistics.median(timed_pass(now)[0] for _ in range(5))
        due_ids = list(db.session.scalars(db.select(Job.id).order_by(Job.id).limit(100)))
        db.session.execute(update(Job).where(Job.id.in_(due_ids)).values(next_deadline=now - timedelta(seconds=5),
                                                                         due_at=now - timedelta(seconds=5)))
        db.session.commit()
        hundred, summary_100 = timed_pass(now)
        # Every job overdue by hours: the scheduler was down; one catch-up pass, one grouped alert.
        later = now + timedelta(hours=4)
        catch_up, summary_all = timed_pass(later)
        print(f"  {label}: nothing due {idle:.1f} ms · 100 due {hundred:.0f} ms ({summary_100}) · "
              f"catch-up with every job down {catch_up / 1000:.1f} s "
              f"({summary_all.get('paged_in_group', 0):,} jobs in {summary_all.get('grouped_alerts', 0)} alert)")
        db.engine.dispose()


def bench_detection(jobs: int, stored_runs: int) -> None:
    print(f"\nDetection: one pass over {jobs:,} jobs with {stored_runs:,} stored runs")
    folder = Path(tempfile.mkdtemp(prefix="qd-bench-"))
    pg_name, pg_url = create_pg_database("qd_bench_detect")
    try:
        sqlite_url = f"sqlite:///{folder / 'detect.db'}"
        for label, url in (("SQLite", sqlite_url), ("PostgreSQL", pg_url)):
            fill_detection_database(url, jobs, stored_runs)
            time_detection(url, label)
    finally:
        drop_pg_database(pg_name)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs-stored", type=int, default=1_000_000)
    parser.add_argument("--skip-pings", action="store_true")
    parser.add_argument("--skip-detection", action="store_true")
    args = parser.parse_args()
    if not args.skip_pings:
        bench_pings(args.duration, args.runs)
    if not args.skip_detection:
        bench_detection(args.jobs, args.runs_stored)


if __name__ == "__main__":
    main()
