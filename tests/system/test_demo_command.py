"""`flask demo`, the first README command's last step: migrate, seed, then serve the web app and the scheduler."""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        return json.load(error)
    except OSError:
        return None


def test_flask_demo_serves_the_app_with_a_live_scheduler_and_prints_the_logins(tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "SECRET_KEY": "demo-test-secret-key",
           "SCHEDULER_HEARTBEAT_SECONDS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "demo", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        deadline, health = time.monotonic() + WAIT_SECONDS, None
        while time.monotonic() < deadline:
            health = _health(port)
            if health and health["status"] == "ok":
                break
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.3)
        # 200 with a fresh heartbeat: the web server answers and the scheduler process runs beside it.
        assert health and health["status"] == "ok", health
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
            assert "Sign in" in response.read().decode()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    for login in ("admin@acme.example", "crisis@acme.example", "oncall@acme.example", "exec@acme.example"):
        assert login in output
    assert "quarterdeck-demo" in output
    assert _health(port) is None
    # Ctrl+C stops the scheduler child too: its heartbeat (every second) stops advancing.
    first = _last_beat(tmp_path / "demo.db")
    time.sleep(2.5)
    assert _last_beat(tmp_path / "demo.db") == first, "the scheduler outlived Ctrl+C"


def _last_beat(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT beat_at FROM scheduler_heartbeats").fetchone()[0]
