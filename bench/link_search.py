"""The risk page's link picker at scale: server time and SQL statements of GET /risks/link-targets with 10,000 jobs
(named "Job 0" to "Job 9999", bench/watchlist_pings.py's filler) and the risk page that carries the picker.

Fills a fresh database (SQLite by default, or PostgreSQL with --backend postgresql, created on 127.0.0.1:5432 and
dropped at the end), then times each request in-process (the median of --requests calls) and counts its SQL
statements, against the bare Flask endpoint of bench/bare_app.py timed the same way in the same run. A search that matches every job ("job") is the worst case: every name is read and sorted before the
first 20 are answered. Run: `.venv/bin/python bench/link_search.py [--backend postgresql]`.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, select  # noqa: E402

from bench import risks_register, watchlist_pings  # noqa: E402
from bench.bare_app import app as bare_app  # noqa: E402

QUERIES = ["job", "job 99", "JOB 4242", "nothing like it"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    with risks_register.bench_database(args.backend) as url:
        run(url, args)


def run(url: str, args) -> None:
    from app import create_app
    from app.extensions import db
    from app.risks.models import Risk

    risks_register.fill(url, 10, 2)
    watchlist_pings.fill_detection_database(url, args.jobs, 0)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False}, env=risks_register.BASE_ENV)
    with app.app_context():
        statements = {"n": 0}

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(*_args, **_kwargs):
            statements["n"] += 1

        client = app.test_client()
        client.post("/login", data={"email": "admin@bench.example", "password": risks_register.PASSWORD})
        risk_id = db.session.scalar(select(Risk.id).limit(1))
        db.session.remove()
        paths = [f"/risks/link-targets?q={query.replace(' ', '+')}" for query in QUERIES] + [f"/risks/{risk_id}"]
        print(f"{args.backend}, {args.jobs} jobs; median of {args.requests} requests")
        print(f"{'request':44} {'ms':>8} {'SQL':>5} {'answered':>9}")
        bare = bare_app.test_client()
        for who, path in [(bare, "/bare"), *((client, path) for path in paths)]:
            timings = []
            for _ in range(args.requests):
                statements["n"] = 0
                started = time.perf_counter()
                response = who.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            answered = "baseline" if who is bare else (
                len(response.get_json()["targets"]) if response.is_json else "page")
            print(f"{path:44} {statistics.median(timings):8.1f} {statements['n']:5d} {answered!s:>9}")


if __name__ == "__main__":
    main()
