"""One benchmark entry point: every figure of the quarter-close targets against a bare Flask app in the same run.

Builds the data set on a fresh database (SQLite file, or PostgreSQL with --postgres: a database created on
127.0.0.1:5432 and dropped at the end; QD_TEST_PG_ADMIN overrides the server): 10,000 risks with 100,000 history
rows and 20,000 actions (bench/risks_register.py's filler), 10,000 jobs with 1,000,000 runs (100,000 with --quick;
bench/watchlist_pings.py's filler). Then:

- pings: gunicorn with 2 workers (--no-control-socket) serves Quarterdeck and bench/bare_app.py alike; `wrk`
  (8 connections, 2 threads) drives pings rotating over 100 up jobs, and the bare endpoint, interleaved; medians.
- pages: sequential keep-alive GETs of /readiness, /risks (default, filtered and sorted), /watchlist and /alerts as
  a signed-in administrator through the same gunicorn, p95 against the bare endpoint's p95.
- memory: the resident set (VmRSS) of each gunicorn worker after the pings and pages.
- detection, in-process: the median of five passes with nothing due and of five with 100 jobs due (a different
  100 each), then one catch-up with every job down.
- outbox drain: bench/paging_latency.py's scenario (b) on a fresh database of its own: 1,000 SMS to 1,000 people due
  at once, the real `flask scheduler run` (default engine configuration) sending them through the real twilio SDK to
  the stand-in Twilio server (tests/fakes/) answering at once; messages per second from the first to the last arrival.
- growth: the same data set at each of --sizes jobs (and as many risks), in-process: detection passes, page time
  and SQL statements per page, so a reader sees which cost is flat and which is linear.

Prints one table: figure, value, baseline, ratio, target, pass/fail; then the growth table.
Run: `.venv/bin/python bench/run.py [--postgres] [--quick] [--only detection|drain]`. Needs `wrk` (apt-get install
-y wrk). `--only` builds the same data set and prints only those rows: no pings, pages, memory or growth.
"""
from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import risks_register, watchlist_pings
from bench.bare_app import app as bare_app

ENV = {**risks_register.BASE_ENV, "PING_RATE_LIMIT": "100000000 per minute"}
PAGES = ["/readiness", "/risks", "/risks?status=live&sort=next_review", "/watchlist", "/alerts"]
ROWS: list[tuple] = []


def row(figure: str, value: float, unit: str, baseline: float | None, target: str, passed: bool | None) -> None:
    ratio = f"{value / baseline:.2f}" if baseline else ""
    ROWS.append((figure, f"{value:,.1f} {unit}", f"{baseline:,.1f}" if baseline else "", ratio, target,
                 "" if passed is None else ("pass" if passed else "FAIL")))


def build(url: str, jobs: int, runs: int, risks: int) -> str:
    """Fill the database; returns the administrator's API token."""
    from sqlalchemy import update

    from app.extensions import db
    from app.timeutil import utcnow
    from app.watchlist.models import Job

    details = risks_register.fill(url, risks, 10)
    watchlist_pings.fill_detection_database(url, jobs, runs)
    app = watchlist_pings.make_app(url)
    with app.app_context():
        # 1% of the jobs down for an hour, already paged (as after an incident), so the pages show some.
        db.session.execute(update(Job).where(Job.id % 100 == 0).values(
            state="down", down_reason="missed", down_since=utcnow() - timedelta(hours=1), alert_key="bench",
            next_deadline=None, due_at=None))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        db.engine.dispose()
    return details["token"]


def ping_paths(url: str) -> list[str]:
    from sqlalchemy import select

    from app.extensions import db
    from app.watchlist.models import Job

    app = watchlist_pings.make_app(url)
    with app.app_context():
        keys = db.session.scalars(select(Job.ping_key).where(Job.state == "up").order_by(Job.id).limit(100)).all()
        db.engine.dispose()
    return [f"/ping/{key}" for key in keys]


def worker_rss_mb(master_pid: int) -> list[float]:
    sizes = []
    for status_file in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status_file.read_text().splitlines() if ":" in line)
        except OSError:  # the process ended while it was read
            continue
        if int(fields["PPid"]) == master_pid:
            sizes.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sizes


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def served(url: str, seconds: int, runs: int, requests: int, postgres: bool) -> None:
    """Pings under wrk, then pages, against the bare app under the same gunicorn settings; then worker memory."""
    folder = Path(tempfile.mkdtemp(prefix="qd-bench-"))
    env = {**os.environ, **ENV, "DATABASE_URL": url}
    bare_port, qd_port = watchlist_pings.free_port(), watchlist_pings.free_port()
    servers = [watchlist_pings.start_gunicorn("bench.bare_app:app", bare_port, env),
               watchlist_pings.start_gunicorn("wsgi:app", qd_port, env)]
    try:
        paths = ping_paths(url)
        script = watchlist_pings.write_lua(paths, folder)
        bare_url, ping_url = f"http://127.0.0.1:{bare_port}/bare", f"http://127.0.0.1:{qd_port}"
        watchlist_pings.warm_up({"bare": (bare_url, None), "ping": (ping_url, script)},
                                {"bare": (None, None, None), "ping": (None, None, paths)})
        hello, pings = [], []
        for _ in range(runs):
            hello.append(watchlist_pings.run_wrk(bare_url, seconds))
            pings.append(watchlist_pings.run_wrk(ping_url, seconds, script))
        hello_rate, ping_rate = statistics.median(r for r, _ in hello), statistics.median(r for r, _ in pings)
        ping_p99 = statistics.median(p for _, p in pings)
        floor = 0.20 if postgres else 0.30
        row("job pings, gunicorn 2 workers", ping_rate, "req/s", hello_rate, f">= {floor:.2f}x bare hello",
            ping_rate / hello_rate >= floor)
        row("job pings p99", ping_p99, "ms", statistics.median(p for _, p in hello), "<= 20 ms", ping_p99 <= 20)

        cookie = risks_register.login_cookie(qd_port)
        bare = http.client.HTTPConnection("127.0.0.1", bare_port)
        risks_register.timed(bare, "/bare", {}, 5)
        bare_p95 = p95(risks_register.timed(bare, "/bare", {}, requests))
        conn = http.client.HTTPConnection("127.0.0.1", qd_port)
        for path in PAGES:
            risks_register.timed(conn, path, {"Cookie": cookie}, 3)  # warm-up: caches, snapshots, connections
            value = p95(risks_register.timed(conn, path, {"Cookie": cookie}, requests))
            row(f"{path} p95", value, "ms", bare_p95, "<= 100 ms", value <= 100)
        rss = worker_rss_mb(servers[1].pid)
        row("memory per worker (max RSS)", max(rss), "MB", max(worker_rss_mb(servers[0].pid)), "<= 150 MB",
            max(rss) <= 150)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)


HUNDRED_DUE_ROUNDS = 5


def detection(url: str, label: str = "") -> dict[str, float]:
    """Milliseconds (medians) of a pass with nothing due and of one with 100 due, and of a catch-up with every job
    down."""
    from sqlalchemy import select, update

    from app.extensions import db
    from app.timeutil import utcnow
    from app.watchlist.detection import run_detection_pass
    from app.watchlist.models import Job

    app = watchlist_pings.make_app(url)
    with app.app_context():
        now = utcnow()

        def timed(at) -> float:
            started = time.perf_counter()
            run_detection_pass(at)
            return (time.perf_counter() - started) * 1000

        timed(now)  # the jobs made down by the builder page now; the passes below start from a quiet state
        idle = statistics.median(timed(now) for _ in range(5))

        def hundred_due() -> float:
            # 100 up jobs (a different 100 each round) whose deadline passed 5 s ago: each pass makes them late
            due = db.session.scalars(select(Job.id).where(Job.state == "up").order_by(Job.id).limit(100)).all()
            db.session.execute(update(Job).where(Job.id.in_(due)).values(next_deadline=now - timedelta(seconds=5)))
            db.session.commit()
            return timed(now)

        hundred = statistics.median(hundred_due() for _ in range(HUNDRED_DUE_ROUNDS))
        catch_up = timed(now + timedelta(hours=4))
        db.engine.dispose()
    return {"idle": idle, "hundred": hundred, "catch_up": catch_up}


def drain(postgres: bool, folder: str, databases: list) -> float:
    """Messages per second of bench/paging_latency.py's scenario (b), the stand-in answering at once."""
    import flask_migrate

    from app import create_app
    from app.extensions import db
    from bench import paging_latency
    from tests import support
    from tests.fakes.twilio_server import FakeTwilio

    url, name = new_database(postgres, folder, "drain")
    databases.append(name)
    twilio = FakeTwilio(from_number=paging_latency.FROM_NUMBER).start()  # answer_range None: at once
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": support.FAST_HASH},
                     env={"SECRET_KEY": paging_latency.SECRET_KEY})
    try:
        with open(Path(folder) / "drain.log", "w") as log, app.app_context():
            flask_migrate.upgrade()
            _oncall, _policy, crowd_policies, _token = paging_latency.set_up(None)
            rate = paging_latency.measure_throughput(paging_latency.process_env(url, twilio), log, crowd_policies,
                                                     twilio, "run")
            db.session.remove()
            db.engine.dispose()
    finally:
        twilio.stop()
    return rate


def in_process_pages(url: str, requests: int) -> dict[str, tuple[float, int]]:
    """p95 ms and SQL statements per request of each page, through the test client."""
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False}, env=ENV)
    client = app.test_client()
    assert client.post("/login", data={"email": "admin@bench.example",
                                       "password": risks_register.PASSWORD}).status_code == 302
    results = {}
    with app.app_context():
        statements = {"n": 0}

        def count(*_args):
            statements["n"] += 1

        for path in PAGES:
            client.get(path)
            event.listen(db.engine, "before_cursor_execute", count)
            statements["n"], samples = 0, []
            for _ in range(requests):
                started = time.perf_counter()
                assert client.get(path).status_code == 200, path
                samples.append((time.perf_counter() - started) * 1000)
            event.remove(db.engine, "before_cursor_execute", count)
            results[path] = (p95(samples), statements["n"] // requests)
        db.engine.dispose()
    return results


def new_database(postgres: bool, folder: str, tag: str) -> tuple[str, str | None]:
    return risks_register.make_database("postgresql" if postgres else "sqlite", folder, f"qd_bench_{tag}")


def bare_in_process_ms(requests: int) -> float:
    client = bare_app.test_client()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get("/bare")
        samples.append((time.perf_counter() - started) * 1000)
    return p95(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1:5432 instead of SQLite")
    parser.add_argument("--quick", action="store_true", help="shorter runs, 100,000 stored runs, sizes 1k and 10k")
    parser.add_argument("--sizes", default=None, help="growth sizes, e.g. 1000,10000,100000")
    parser.add_argument("--only", choices=["detection", "drain"],
                        help="only these rows (detection: nothing due, 100 due, catch-up); no served figures, no growth")
    args = parser.parse_args()
    if args.only is None and shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    seconds, runs, requests = (4, 1, 20) if args.quick else (10, 3, 50)
    stored_runs = 100_000 if args.quick else 1_000_000
    sizes = [int(s) for s in (args.sizes or ("1000,10000" if args.quick else "1000,10000,100000")).split(",")]
    started = time.monotonic()
    folder = tempfile.mkdtemp(prefix="qd-bench-")
    databases = []
    try:
        if args.only != "drain":
            url, name = new_database(args.postgres, folder, "main")
            databases.append(name)
            build(url, 10_000, stored_runs, 10_000)
        if args.only is None:
            served(url, seconds, runs, requests, args.postgres)
        if args.only in (None, "detection"):
            passes = detection(url)
            row("detection, 10k jobs, nothing due", passes["idle"], "ms", None, "flat in the jobs", None)
            row("detection, 10k jobs, 100 due", passes["hundred"], "ms", None, "<= 20 ms", passes["hundred"] <= 20)
            row("catch-up, all 10k jobs late", passes["catch_up"], "ms", None, "<= 1000 ms",
                passes["catch_up"] <= 1000)
        if args.only in (None, "drain"):
            rate = drain(args.postgres, folder, databases)
            row("outbox drain, 1,000 due, provider at once", rate, "msg/s", None, ">= 200 msg/s", rate >= 200)
        backend = "PostgreSQL" if args.postgres else "SQLite"
        built = f"10,000 jobs, {stored_runs:,} runs, 10,000 risks, 100,000 history rows"
        print(f"\n{backend}: " + ("1,000 people, 50 alerts (the drain's own database)" if args.only == "drain" else built))
        widths = (42, 16, 12, 8, 26, 6)
        header = ("figure", "value", "baseline", "ratio", "target", "")
        for line in [header, *ROWS]:
            print("".join(str(cell).ljust(width) for cell, width in zip(line, widths)))
        if args.only is None:
            growth(args, sizes, folder, databases, requests)
    finally:
        for name in databases:
            if name:
                watchlist_pings.drop_pg_database(name)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n({time.monotonic() - started:.0f} s)")


def growth(args, sizes: list[int], folder: str, databases: list, requests: int) -> None:
    print(f"\nGrowth (in-process; pages: p95 ms / SQL statements; bare Flask p95 {bare_in_process_ms(requests):.2f} ms)")
    print("size".ljust(9) + "idle ms".ljust(9) + "100 due".ljust(9) + "catch-up".ljust(10)
          + "".join(path[:22].ljust(24) for path in PAGES))
    for size in sizes:
        url, name = new_database(args.postgres, folder, f"s{size}")
        databases.append(name)
        build(url, size, size * 10, size)
        pages = in_process_pages(url, max(5, requests // 4))
        passes = detection(url)
        print(f"{size:<9,}{passes['idle']:<9.1f}{passes['hundred']:<9.1f}{passes['catch_up']:<10.0f}"
              + "".join(f"{ms:.1f} / {n}".ljust(24) for ms, n in pages.values()))


if __name__ == "__main__":
    main()
