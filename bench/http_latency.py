"""Request latency of Quarterdeck's hot endpoints against a bare Flask endpoint, same server, same run.

Starts two gunicorn servers on 127.0.0.1 (one worker each, so the numbers are per-request costs, not
parallelism): the bare baseline app and Quarterdeck on a fresh SQLite database with the demo data. Then it
times sequential keep-alive requests and prints the median and p95 of each endpoint and its overhead over
the baseline. Run: `.venv/bin/python bench/http_latency.py [--requests 500]`.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(target: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "--no-control-socket",
         "--log-level", "warning", target],
        cwd=ROOT, env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gunicorn for {target} did not start")


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


def login_cookie(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = f"email=admin%40acme.example&password=quarterdeck-demo&csrf_token={token}"
    conn.request("POST", "/login", body=body, headers={"Cookie": cookie,
                                                        "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise SystemExit(f"login failed: {response.status}")
    return next(c.split(";", 1)[0] for c in response.msg.get_all("Set-Cookie") if c.startswith("session="))


def api_token(env: dict[str, str]) -> str:
    code = ("from app import create_app; from app.extensions import db; from app.auth import services as s;"
            "app=create_app();\nwith app.app_context():\n"
            " u=s.find_user_by_email('admin@acme.example'); print(s.create_token(u, name='bench')[1])")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True).stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="qd-bench-")
    # No scheduler runs here: the heartbeats are written once below, and the limits give the run an hour, so
    # /healthz does all its checks (database, heartbeats, paging engine) and answers 200.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench-secret-key-123456",
           "LOG_LEVEL": "WARNING", "HEALTH_MAX_HEARTBEAT_AGE": "3600", "ENGINE_MAX_TICK_AGE": "3600"}
    subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "seed", "demo"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([str(VENV_BIN / "python"), "-c",
                    "from app import create_app; from app.system.services import record_heartbeat\n"
                    "from app.alerting.health import ENGINE_HEARTBEAT\n"
                    "app=create_app()\nwith app.app_context(): record_heartbeat(); record_heartbeat(ENGINE_HEARTBEAT)"],
                   cwd=ROOT, env=env, check=True)
    token = api_token(env)
    bare_port, qd_port = free_port(), free_port()
    servers = [start_gunicorn("bench.bare_app:app", bare_port, env), start_gunicorn("wsgi:app", qd_port, env)]
    try:
        cookie = login_cookie(qd_port)
        cases = [
            ("bare Flask /bare (baseline)", bare_port, "/bare", {}),
            ("/healthz (db, heartbeats, paging)", qd_port, "/healthz", {}),
            ("/api/v1/me (bearer token)", qd_port, "/api/v1/me", {"Authorization": f"Bearer {token}"}),
            ("/api/v1/calendar/quarter", qd_port, "/api/v1/calendar/quarter?date=2026-11-22",
             {"Authorization": f"Bearer {token}"}),
            ("/ home page (session)", qd_port, "/", {"Cookie": cookie}),
        ]
        results = []
        for label, port, path, headers in cases:
            conn = http.client.HTTPConnection("127.0.0.1", port)
            timed(conn, path, headers, 20)  # warm-up: imports, caches, connection
            samples = timed(conn, path, headers, args.requests)
            results.append((label, statistics.median(samples), statistics.quantiles(samples, n=20)[18]))
        baseline = results[0][1]
        print(f"{'endpoint':<32} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}")
        for label, median, p95 in results:
            print(f"{label:<32} {median:>10.2f} {p95:>8.2f} {median / baseline:>11.1f}")
        print(json.dumps({"requests_per_endpoint": args.requests, "medians_ms": {r[0]: round(r[1], 3) for r in results}}))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
