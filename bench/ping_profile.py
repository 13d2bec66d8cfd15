"""Where a job ping's time goes on SQLite: cProfile over pings sent in-process through the WSGI stack.

Run: `.venv/bin/python bench/ping_profile.py [--pings 3000]`. It builds the ping database of
bench/watchlist_pings.py (100 up jobs) in a temporary folder, sends the pings through Flask's test client
(so the ping gateway, its throttle and its write run as under gunicorn) and prints the shares of the
gateway's time: the throttle, the write, and inside the write SQLAlchemy's statement execution and SQLite's
own execute and commit. Shares, not speeds: cProfile slows everything down alike.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import watchlist_pings  # noqa: E402  (the repository root is put on the path first)


def cumulative(stats: pstats.Stats, file_part: str, function: str) -> float:
    return max([row[3] for key, row in stats.stats.items() if file_part in key[0] and key[2] == function] or [0.0])


def builtin(stats: pstats.Stats, words: tuple[str, ...]) -> float:
    return sum(row[3] for key, row in stats.stats.items() if key[0] == "~" and all(w in key[2] for w in words))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pings", type=int, default=3000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="qd-ping-profile-"))
    try:
        url = f"sqlite:///{folder / 'pings.db'}"
        paths = watchlist_pings.prepare_ping_database(url)
        client = watchlist_pings.make_app(url).test_client()
        for path in paths:  # warm the job cache and the statement caches
            assert client.get(path).status_code == 200
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for i in range(args.pings):
            client.get(paths[i % len(paths)])
        profile.disable()
        wall = time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    stats = pstats.Stats(profile)
    gateway = cumulative(stats, "ping_gateway.py", "__call__")
    parts = {
        "throttle": cumulative(stats, "ping_gateway.py", "_allowed"),
        "write": cumulative(stats, "ping_gateway.py", "_record_fast"),
        "  SQLAlchemy statement execution (incl. SQLite)": cumulative(stats, "engine/base.py",
                                                                     "_execute_clauseelement"),
        "  SQLite execute + commit (C)": builtin(stats, ("sqlite3", "execute")) + builtin(stats, ("sqlite3",
                                                                                                   "commit")),
    }
    print(f"{args.pings} pings in-process under cProfile: {wall / args.pings * 1000:.3f} ms each; "
          f"the gateway {gateway / wall * 100:.0f} % of it (the rest is the test client building requests)")
    for name, seconds in parts.items():
        print(f"  {name:<50} {seconds / gateway * 100:5.1f} % of the gateway")


if __name__ == "__main__":
    main()
