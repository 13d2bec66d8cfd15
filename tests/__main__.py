"""`python -m tests`: make sure the real parts exist, then run the whole suite on SQLite and PostgreSQL.

Chromium (Debian package `chromium`) is installed when missing and this user
may install packages; Playwright's own browser download is never used.
Extra arguments are passed to pytest, e.g. `python -m tests -k audit`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("QD_TEST_CHROMIUM", "/usr/bin/chromium")


def say(message: str) -> None:
    print(f"[tests] {message}", flush=True)


def ensure_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    apt = shutil.which("apt-get")
    if apt is None:
        say(f"Chromium is missing at {CHROMIUM} and apt-get is not available: browser tests will skip "
            "(or fail under CI=true).")
        return
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        say("Chromium is missing and this user cannot install packages: browser tests will skip.")
        return
    say("Installing Debian's chromium for the browser tests (about a minute)...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        result = subprocess.run(prefix + command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        if result.returncode != 0:
            say(f"'{' '.join(command)}' failed: {result.stderr.strip()[-400:]}")
            return


def main() -> int:
    ensure_chromium()
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", os.environ.get("QD_TEST_WORKERS", "2"),
            "--durations=5", *(sys.argv[1:] or ["tests"])]
    say("Running: " + " ".join(args[1:]))
    # pytest rewrites the asserts of the 479 test modules as it collects them, in each worker, and keeps the result
    # only where bytecode may be written: with PYTHONDONTWRITEBYTECODE set in the environment every worker, and
    # every pytest the suite starts, rewrote them all again (11 s of CPU per collection against 5 s). The caches go
    # to __pycache__ folders, which git ignores.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.call(args, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
