"""The whole test suite's wall time on a busy machine: the suite runs while other processes keep every core busy.

The suite's target is under 10 minutes on 2 cores whether or not something else is running (a CI neighbour, a
benchmark, a developer's build). This runs `python -m tests` (CI=true, so nothing is skipped for a missing part)
beside --burners processes that each spin one core at normal priority, and prints the suite's wall time, its
pytest summary line and the load average seen meanwhile.

Run: `.venv/bin/python bench/suite_busy.py [--burners 2] [-- extra pytest arguments]`.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 600


def burn(stop_at: float) -> None:
    """Keep one core busy with plain arithmetic until stop_at (a monotonic time)."""
    n = 0
    while time.monotonic() < stop_at:
        for _ in range(100_000):
            n = (n * 31 + 7) % 1_000_003


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--burners", type=int, default=os.cpu_count() or 2, help="busy processes (default: cores)")
    parser.add_argument("--log", default=str(Path(tempfile.gettempdir()) / "quarterdeck-suite-busy.log"),
                        help="where the suite's whole output is written")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()

    burners = [multiprocessing.Process(target=burn, args=(time.monotonic() + 3 * TARGET_SECONDS,), daemon=True)
               for _ in range(args.burners)]
    for process in burners:
        process.start()
    loads: list[float] = []
    started = time.monotonic()
    suite = subprocess.Popen([sys.executable, "-m", "tests", *args.pytest_args], cwd=ROOT,
                             env={**os.environ, "CI": "true"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    tail: list[str] = []
    failures: list[str] = []
    assert suite.stdout is not None
    with open(args.log, "w") as log:  # the whole output: a failure under load must be readable afterwards
        for line in suite.stdout:
            log.write(line)
            tail = (tail + [line.rstrip()])[-40:]
            if line.startswith(("FAILED ", "ERROR ")):
                failures.append(line.rstrip())
            if len(loads) < (time.monotonic() - started) // 30:  # a load reading every 30 s
                loads.append(os.getloadavg()[0])
    code = suite.wait()
    seconds = time.monotonic() - started
    for process in burners:
        process.terminate()
    summary = next((line for line in reversed(tail) if " passed" in line or " failed" in line), "(no summary)")
    print(f"\nSuite beside {args.burners} busy processes on {os.cpu_count()} cores: exit {code}")
    print(f"  wall time {seconds / 60:.1f} min ({seconds:.0f} s); target <= {TARGET_SECONDS / 60:.0f} min: "
          f"{'pass' if seconds <= TARGET_SECONDS and code == 0 else 'FAIL'}")
    if loads:
        print(f"  load average (1 min) meanwhile: median {sorted(loads)[len(loads) // 2]:.1f}, max {max(loads):.1f}")
    print(f"  {summary.strip('= ')}")
    for line in failures:
        print(f"  {line}")
    print(f"  the whole output: {args.log}")
    sys.exit(code)


if __name__ == "__main__":
    main()
