"""What a process start costs: the CPU of a fresh Python that imports `wsgi` (builds the app), as every gunicorn
worker, the scheduler and each `flask` command does, against one that imports the bare Flask app of bench/bare_app.py,
measured in the same run. Prints the medians, and the same start with the collector left on while the app is built
(wsgi.py turns it off), which is its share.

Run: `.venv/bin/python bench/startup.py [--runs 9]`. SQLite in a temporary folder; nothing is served.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTS = {
    "bare Flask app (baseline)": "import bench.bare_app",
    "import wsgi (the app built)": "import wsgi",
    # wsgi.py turns the collector off while the app is built; here it is kept on, as before that change
    "import wsgi, collector on during it": "import gc; gc.disable = gc.freeze = lambda: None; import wsgi",
}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_cpu(code: str, env: dict) -> float:
    """Seconds of CPU of one fresh interpreter running `code` and exiting."""
    before = children_cpu()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return children_cpu() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder}/qd.db", "SECRET_KEY": "bench-" + "x" * 40}
        samples: dict[str, list[float]] = {name: [] for name in STARTS}
        for _ in range(args.runs):  # interleaved: a burst of load on the machine falls on every kind alike
            for name, code in STARTS.items():
                samples[name].append(start_cpu(code, env))
    baseline = statistics.median(samples["bare Flask app (baseline)"])
    print(f"{'process start':40} {'CPU (median)':>13} {'vs baseline':>12}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:40} {median * 1000:10.0f} ms {median / baseline:11.2f}x")


if __name__ == "__main__":
    main()
