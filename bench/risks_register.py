"""The risk register at scale: page and API latency with 10,000 risks and 100,000 history rows, and queries per page.

Part 1 — latency: a fresh database (SQLite by default, or PostgreSQL with --backend postgresql: a database this
script creates on 127.0.0.1:5432 and drops at the end) gets 10,000 risks, 100,000 score-history periods spread
over two years (the trend reads them), 20,000 mitigation actions and 50 owners, bulk-inserted. Two gunicorn
servers (one worker each, --no-control-socket) serve the bare Flask endpoint of bench/bare_app.py and Quarterdeck;
sequential keep-alive requests are timed after a warm-up, and the median and p95 of each endpoint are printed with
the ratio to the bare endpoint, measured in the same run.

Part 2 — queries per page: in-process, the SQL statements each page and API list sends are counted with a
SQLAlchemy `before_cursor_execute` listener, for a register of 100 risks (1,000 history rows) and of 10,000 risks
(100,000 rows). The counts must be equal: the register never loads per risk.

Run: `.venv/bin/python bench/risks_register.py [--requests 50] [--risks 10000] [--periods 10] [--backend sqlite]`
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent
PASSWORD = "bench-password-123"
BASE_ENV = {"SECRET_KEY": "bench-secret-key-not-for-production", "LOG_LEVEL": "WARNING"}
CASES = [
    ("/risks (register page)", "/risks", "page"),
    ("/risks?status=live&sort=next_review", "/risks?status=live&sort=next_review", "page"),
    ("/risks?overdue=action&sort=updated", "/risks?overdue=action&sort=updated", "page"),
    ("/api/v1/risks (list)", "/api/v1/risks", "api"),
    ("/api/v1/risks?level=high&sort=exposure", "/api/v1/risks?level=high&sort=exposure", "api"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(target: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "--no-control-socket",
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


def make_database(backend: str, tmp: str, prefix: str = "qd_bench_risks") -> tuple[str, str | None]:
    """(SQLAlchemy URL, PostgreSQL database name to drop afterwards or None): a SQLite file in `tmp`, or a new
    PostgreSQL database named from `prefix`."""
    if backend == "sqlite":
        return f"sqlite:///{tmp}/{random.randrange(10**9)}.db", None
    from tests.support import create_pg_database

    name, url = create_pg_database(prefix, wait_for_disk=True)  # figures with production commits
    return url, name


@contextmanager
def bench_database(backend: str, prefix: str = "qd_bench"):
    """A fresh database for one benchmark run: a SQLite file in a temporary folder, or a PostgreSQL database that is
    dropped afterwards, whatever happens. Yields its SQLAlchemy URL."""
    from tests.support import drop_pg_database

    with tempfile.TemporaryDirectory() as tmp:
        url, name = make_database(backend, tmp, prefix)
        try:
            yield url
        finally:
            if name:
                drop_pg_database(name)


def fill(url: str, risks: int, periods: int) -> dict:
    """Create the schema, an administrator with a token, 50 owners and the register; returns login details."""
    from sqlalchemy import insert

    from app import create_app
    from app.audit.recorder import acting_as
    from app.auth import services as auth
    from app.extensions import db
    from app.risks.models import Risk, RiskAction, RiskScore
    from app.risks.scoring import DEFAULT_GRID, level_for
    from app.timeutil import utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}, env=BASE_ENV)
    rng = random.Random(risks)
    with app.app_context(), acting_as("bench"):
        db.create_all()
        admin = auth.create_user(email="admin@bench.example", name="Bench Admin", role="admin", password=PASSWORD)
        _token, raw = auth.create_token(admin, name="bench")
        owners = [auth.create_user(email=f"owner{n}@bench.example", name=f"Owner {n:02d}", role="crisis_team",
                                   password=PASSWORD).id for n in range(50)]
        now = utcnow()
        categories = ["capacity", "outage", "single_point_of_failure", "data", "vendor", "linearity",
                      "pipeline_deal", "defect", "other"]
        statuses = ["open"] * 4 + ["mitigating"] * 3 + ["mitigated", "accepted", "closed"]
        risk_rows, history, action_rows = [], [], []
        for number in range(risks):
            start = now - timedelta(days=rng.uniform(30, 730))
            moments = sorted(start + (now - start) * rng.random() for _ in range(periods - 1))
            moments = [start] + moments
            scores = [(rng.randint(1, 5), rng.randint(1, 5)) for _ in moments]
            status = rng.choice(statuses)
            likelihood, impact = scores[-1]
            level = level_for(DEFAULT_GRID, likelihood, impact).value
            risk_rows.append({
                "title": f"Bench risk {number}: {rng.choice(categories)} at quarter end", "description": "bench",
                "category": rng.choice(categories), "source": rng.choice(["people", "process", "technology",
                                                                          "external"]),
                "owner_id": rng.choice(owners), "fiscal_year": 2027, "quarter": rng.randint(1, 4),
                "exposure": rng.randint(0, 5_000_000) if rng.random() < 0.5 else None,
                "inherent_likelihood": 5, "inherent_impact": 5, "likelihood": likelihood, "impact": impact,
                "inherent_level": "critical", "level": level, "status": status, "close_reason":
                    "bench" if status == "closed" else "", "accepted_by_id": admin.id if status == "accepted" else None,
                "acceptance_reason": "bench" if status == "accepted" else "",
                "acceptance_expires_on": (now + timedelta(days=30)).date() if status == "accepted" else None,
                "next_review_on": (now + timedelta(days=rng.randint(-20, 60))).date()
                if status not in ("closed", "accepted") else None,
                "created_at": start, "updated_at": moments[-1]})
            history.append((moments, scores, status))
        table = Risk.__table__
        ids = db.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                 risk_rows).scalars().all()
        score_rows = []
        for risk_id, (moments, scores, status) in zip(ids, history):
            for index, (moment, (likelihood, impact)) in enumerate(zip(moments, scores)):
                last = index == len(moments) - 1
                score_rows.append({
                    "risk_id": risk_id, "valid_from": moment, "valid_to": None if last else moments[index + 1],
                    "inherent_likelihood": 5, "inherent_impact": 5, "likelihood": likelihood, "impact": impact,
                    "level": level_for(DEFAULT_GRID, likelihood, impact).value,
                    "status": status if last else "open", "score_changed": True,
                    "cause": "created" if index == 0 else "edit", "actor_label": "bench"})
            for _ in range(2):
                action_rows.append({"risk_id": risk_id, "description": "bench action", "owner_id": rng.choice(owners),
                                    "due_on": (now + timedelta(days=rng.randint(-30, 90))).date(),
                                    "status": rng.choice(["todo", "doing", "done"]), "drop_reason": "",
                                    "created_at": now})
        for offset in range(0, len(score_rows), 20_000):
            db.session.execute(insert(RiskScore.__table__), score_rows[offset:offset + 20_000])
        db.session.execute(insert(RiskAction.__table__), action_rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                # Outside a transaction: statistics gathered inside one that is rolled back are rolled back too.
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        db.engine.dispose()
    return {"token": raw, "history_rows": len(score_rows), "actions": len(action_rows)}


def login_cookie(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = f"email=admin%40bench.example&password={PASSWORD}&csrf_token={token}"
    conn.request("POST", "/login", body=body, headers={"Cookie": cookie,
                                                        "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise SystemExit(f"login failed: {response.status}")
    return next(c.split(";", 1)[0] for c in response.msg.get_all("Set-Cookie") if c.startswith("session="))


def timed(conn: http.client.HTTPConnection, path: str, headers: dict[str, str], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        samples.append((time.perf_counter() - start) * 1000)
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}; the benchmark would time the wrong thing")
    return samples


def latency(url: str, token: str, requests: int) -> list[tuple[str, float, float]]:
    env = {**os.environ, **BASE_ENV, "DATABASE_URL": url}
    bare_port, qd_port = free_port(), free_port()
    servers = [start_gunicorn("bench.bare_app:app", bare_port, env), start_gunicorn("wsgi:app", qd_port, env)]
    try:
        cookie = login_cookie(qd_port)
        cases = [("bare Flask /bare (baseline)", bare_port, "/bare", {})] + [
            (label, qd_port, path, {"Cookie": cookie} if kind == "page" else {"Authorization": f"Bearer {token}"})
            for label, path, kind in CASES]
        results = []
        for label, port, path, headers in cases:
            conn = http.client.HTTPConnection("127.0.0.1", port)
            timed(conn, path, headers, 5)  # warm-up: imports, caches, the connection
            samples = timed(conn, path, headers, requests)
            results.append((label, statistics.median(samples), statistics.quantiles(samples, n=20)[18]))
        return results
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def queries_per_page(url: str, token: str) -> dict[str, int]:
    """SQL statements sent by each case, counted in-process (after one warm-up request each)."""
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False}, env=BASE_ENV)
    client = app.test_client()
    assert client.post("/login", data={"email": "admin@bench.example", "password": PASSWORD}).status_code == 302
    counts = {}
    with app.app_context():
        engine = db.engine
        for label, path, kind in CASES:
            headers = {"Authorization": f"Bearer {token}"} if kind == "api" else {}
            client.get(path, headers=headers)
            statements: list[str] = []
            listener = lambda *args: statements.append(args[2])  # noqa: E731,B023  (conn, cursor, statement, ...)
            event.listen(engine, "before_cursor_execute", listener)
            try:
                assert client.get(path, headers=headers).status_code == 200
            finally:
                event.remove(engine, "before_cursor_execute", listener)
            counts[label] = len(statements)
        engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--risks", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=10, help="history periods per risk")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="qd-bench-risks-")
    made = []
    try:
        small_url, small_db = make_database(args.backend, tmp)
        made.append(small_db)
        small = fill(small_url, 100, args.periods)
        big_url, big_db = make_database(args.backend, tmp)
        made.append(big_db)
        started = time.perf_counter()
        big = fill(big_url, args.risks, args.periods)
        print(f"{args.backend}: {args.risks:,} risks, {big['history_rows']:,} history rows, {big['actions']:,} "
              f"actions loaded in {time.perf_counter() - started:.1f} s")
        results = latency(big_url, big["token"], args.requests)
        baseline = results[0][1]
        print(f"\n{'endpoint':<42} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}")
        for label, median, p95 in results:
            print(f"{label:<42} {median:>10.2f} {p95:>8.2f} {median / baseline:>11.1f}")
        few, many = queries_per_page(small_url, small["token"]), queries_per_page(big_url, big["token"])
        print(f"\n{'SQL statements per request':<42} {'100 risks':>10} {args.risks:>8,} risks")
        for label, _path, _kind in CASES:
            print(f"{label:<42} {few[label]:>10} {many[label]:>14}")
        grew = [label for label in few if many[label] != few[label]]
        print("query counts: " + ("constant" if not grew else f"GROW for {', '.join(grew)}"))
        print(json.dumps({"backend": args.backend, "risks": args.risks, "history_rows": big["history_rows"],
                          "requests_per_endpoint": args.requests,
                          "medians_ms": {r[0]: round(r[1], 2) for r in results},
                          "queries": {"100": few, str(args.risks): many}}))
    finally:
        if args.backend == "postgresql":
            from tests.support import drop_pg_database

            for name in made:
                if name:
                    drop_pg_database(name)


if __name__ == "__main__":
    main()
