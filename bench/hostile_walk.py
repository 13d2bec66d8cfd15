"""Hostile input, counted: the hostile route walk and the property-based API client on SQLite and PostgreSQL.

For each backend (an in-memory SQLite, and a PostgreSQL database this script creates on 127.0.0.1:5432 and drops
at the end; QD_TEST_PG_ADMIN overrides the server) it builds an empty app with one record per URL parameter,
signs in as anonymous and as every role (CSRF on), then:

1. walks every route of the URL map with hostile values in its path, query, form fields and JSON body
   (tests/hostile/walk.py: huge ids, NUL, lone surrogates, 10 kB strings, 5,000-deep JSON), and
2. runs the property-based client (schemathesis, tests/hostile/fuzz.py) over every operation of
   /api/v1/openapi.json as an administrator, positive and negative examples,

and prints the requests tried, the server errors (5xx) found, how many are distinct (route, method, exception),
the partial writes (a refused request that committed a write) and the responses that do not match the document.

Run: `.venv/bin/python bench/hostile_walk.py [--backend sqlite|postgresql|both] [--examples 25] [--list]`
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build_app(url: str):
    from app import create_app
    from app.extensions import db
    from tests import support
    from tests.conftest import FreshContextClient

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "PASSWORD_HASH_METHOD": support.FAST_HASH,
                      "LOG_LEVEL": "CRITICAL"}, env=support.TEST_ENV)
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.create_all()
    return app


def run_backend(backend: str, examples: int, show: bool) -> dict[str, int]:
    from app.extensions import db
    from tests import support
    from tests.hostile.identities import make_identity, user_factory
    from tests.hostile.walk import IDENTITIES, HostileWalk
    from tests.walk_values import build_url_values

    pg_name = None
    url = "sqlite://"
    if backend == "postgresql":
        pg_name, url = support.create_pg_database("qd_bench_hostile", wait_for_disk=True)
    runbooks = tempfile.TemporaryDirectory(prefix="qd-hostile-")
    try:
        app = build_app(url)
        with app.app_context():
            make_user = user_factory()
            values = build_url_values(make_user, Path(runbooks.name))
            identities = [make_identity(app, make_user, name) for name in IDENTITIES]
            started = time.monotonic()
            report = HostileWalk(app, values, identities).walk()
            walk_seconds = time.monotonic() - started
            fuzz = None
            if examples:
                from tests.hostile.fuzz import run_property_based

                from app.auth import services as auth
                from app.auth.roles import Role

                _token, raw = auth.create_token(make_user(Role.ADMIN), name="property-based")
                started = time.monotonic()
                fuzz = run_property_based(app, token=raw, path_values=values, examples=examples)
                fuzz_seconds = time.monotonic() - started
            db.session.remove()
            db.engine.dispose()
    finally:
        runbooks.cleanup()
        if pg_name:
            support.drop_pg_database(pg_name)
    print(f"\n== {backend} ==")
    print(f"hostile walk: {report.requests} requests in {walk_seconds:.0f} s, {len(report.server_errors)} server "
          f"errors ({len(report.distinct_server_errors())} distinct), {len(report.partial_writes)} partial writes")
    if show:
        for (endpoint, method, detail), count in Counter(
                (f.endpoint, f.method, f.detail) for f in report.server_errors).most_common():
            print(f"  {count:4d} x {method} {endpoint}: {detail}")
        for finding in report.partial_writes[:50]:
            print(f"  partial write: {finding}")
    counts = {"walk_requests": report.requests, "walk_5xx": len(report.server_errors),
              "walk_partial_writes": len(report.partial_writes)}
    if fuzz is not None:
        print(f"property-based: {fuzz.requests} requests in {fuzz_seconds:.0f} s over {fuzz.operations} operations, "
              f"{len(fuzz.server_errors)} server errors ({len(fuzz.distinct_server_errors())} distinct), "
              f"{len(fuzz.mismatches)} responses not matching the document")
        if show:
            for line in sorted(fuzz.distinct_server_errors()):
                print(f"  5xx: {line}")
            for line in sorted(set(fuzz.mismatches))[:80]:
                print(f"  mismatch: {line}")
        counts.update(fuzz_requests=fuzz.requests, fuzz_5xx=len(fuzz.server_errors),
                      fuzz_mismatches=len(fuzz.mismatches))
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--examples", type=int, default=25, help="property-based examples per operation (0: skip)")
    parser.add_argument("--list", action="store_true", help="list each distinct server error and mismatch")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the app logs every 500 with its traceback; the counts say enough
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    totals = Counter()
    for backend in backends:
        totals.update(run_backend(backend, args.examples, args.list))
    print("\n== total ==")
    print(", ".join(f"{name}={value}" for name, value in sorted(totals.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
