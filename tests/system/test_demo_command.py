"""`flask demo`, the first README command's last step: migrate, seed, then serve the web app and the scheduler;
Ctrl+C and SIGTERM stop both, within seconds, without a traceback and without leaving the scheduler behind."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests import support

ROOT = Path(__file__).resolve().parents[2]
START_BOUND = 180  # seconds: generous, for a busy machine; the readiness signal ends the wait, not a timer
# Both processes stop in about 1.5 s, on a quiet machine and beside six busy processes per core.
STOP_BOUND = support.STOP_BOUND
# A command typed at a terminal starts with Ctrl+C's default action. A suite started in the background by a script
# (`... &`) hands its children SIGINT ignored, and Python then never raises KeyboardInterrupt: the demo would sit out
# the Ctrl+C this test sends. So the demo starts as a terminal starts it: an exec with SIGINT back to its default.
AS_AT_A_TERMINAL = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])")


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


class Demo:
    """`flask demo` in its own process group, its output collected as it comes."""

    def __init__(self, tmp_path: Path):
        self.port = _free_port()
        self.db = tmp_path / "demo.db"
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{self.db}", "SECRET_KEY": "demo-test-secret-key",
               "SCHEDULER_HEARTBEAT_SECONDS": "1"}
        self.process = subprocess.Popen([sys.executable, "-c", AS_AT_A_TERMINAL, "-m", "flask", "--app", "wsgi",
                                         "demo", "--port", str(self.port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_until_healthy(self) -> dict:
        deadline, health = time.monotonic() + START_BOUND, None
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output
            health = _health(self.port)
            if health and health["status"] == "ok":
                return health
            time.sleep(0.3)
        pytest.fail(f"the demo was not healthy within {START_BOUND} s: {health}\n{self.output}")

    def scheduler_pids(self) -> list[int]:
        found = subprocess.run(["pgrep", "-g", str(self.process.pid), "-f", "scheduler run"], capture_output=True,
                               text=True)
        return [int(pid) for pid in found.stdout.split()]

    def stop(self, signum: int, *, group: bool = False) -> tuple[int, float]:
        """Signal the demo (`group`: its whole process group, as Ctrl+C does) and wait for it to end; (exit code,
        seconds it took). A demo still running after STOP_BOUND fails the test with what it printed."""
        started = time.monotonic()
        if group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=STOP_BOUND)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the demo was still running {STOP_BOUND} s after signal {signum}:\n{self.output}")
        self._reader.join(timeout=5)
        return code, time.monotonic() - started

    def kill(self) -> None:
        """Whatever happened, nothing of the demo outlives the test."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


def _gone(pids: list[int], bound: float = STOP_BOUND) -> bool:
    """True once none of `pids` is a live process (a zombie waiting to be reaped counts as gone)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if _alive(pid)]
        if not alive:
            return True
        time.sleep(0.1)
    return False


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_flask_demo_serves_with_a_live_scheduler_and_stops_cleanly(tmp_path, signum):
    demo = Demo(tmp_path)
    try:
        demo.wait_until_healthy()  # 200 with a fresh heartbeat: the web server answers, the scheduler runs
        with urllib.request.urlopen(f"http://127.0.0.1:{demo.port}/login", timeout=5) as response:
            assert "Sign in" in response.read().decode()
        schedulers = demo.scheduler_pids()
        assert len(schedulers) == 1, schedulers
        # Ctrl+C reaches the whole foreground group; SIGTERM only the demo process itself, as `kill` does.
        code, took = demo.stop(signum, group=signum == signal.SIGINT)
    finally:
        demo.kill()

    output = demo.output
    for login in ("admin@acme.example", "crisis@acme.example", "oncall@acme.example", "exec@acme.example"):
        assert login in output
    assert "quarterdeck-demo" in output
    assert code == 0 and took <= STOP_BOUND, output
    assert "Traceback" not in output, output
    assert "scheduler stopped" in output and "Quarterdeck stopped." in output
    assert _health(demo.port) is None
    # The scheduler child is gone (waited for with a bound, not a fixed sleep: it may take a moment to be reaped).
    assert _gone(schedulers), "the scheduler outlived the demo"
