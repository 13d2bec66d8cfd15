"""The hostile walk in the suite: every route, as anonymous and as each role, with CSRF on; no 5xx and no partial
write. Routes, forms and fields are discovered (tests/hostile/walk.py), so routes added later are walked too.

To stay inside the suite's time each identity gets two of the hostile texts per route (rotating from route to
route, so every text reaches every kind of route); bench/hostile_walk.py sends every text as every role.
"""
from __future__ import annotations

import pytest

from tests.hostile.identities import make_identity
from tests.hostile.walk import ANONYMOUS, HUGE_IDS, IDENTITIES, HostileWalk
from tests.walk_values import build_url_values


# Every identity on SQLite. On PostgreSQL, what differs is how the database takes the hostile values (NUL, integers
# past its column types, long text), so there the walk needs every route, not every role: anonymous reaches the
# public doors, the administrator every route but the executives' own, and an executive those. The crisis team's and
# the responders' routes are subsets of the administrator's. bench/hostile_walk.py walks the whole grid.
GRID = [*(("sqlite", identity) for identity in IDENTITIES),
        *(("postgresql", identity) for identity in (ANONYMOUS, "admin", "executive"))]


@pytest.mark.parametrize(("app", "identity"), GRID, indirect=["app"])
def test_no_hostile_value_causes_a_server_error_or_a_partial_write(app, make_user, tmp_path, identity):
    values = build_url_values(make_user, tmp_path)
    who = make_identity(app, make_user, identity)
    walk = HostileWalk(app, values, [who], sample=2, huge_ids=HUGE_IDS[:2])

    report = walk.walk()

    assert report.requests > (20 if identity == ANONYMOUS else 300)  # the walk really reached the routes
    problems = [str(finding) for finding in report.server_errors + report.partial_writes]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


@pytest.mark.fresh_app  # adds two routes
def test_the_walk_reports_a_server_error_and_a_partial_write(app, make_user):
    # Guards the walk itself: a route that fails on a hostile value, and one that writes then refuses, are caught.
    from itertools import count

    from flask import abort, request

    from app.access import public
    from app.extensions import db
    from app.system.models import SchedulerHeartbeat
    from app.timeutil import utcnow

    calls = count()

    @public
    def fragile():
        if any(len(value) > 5000 for value in request.form.values()):
            raise RuntimeError("a long body breaks this route")
        return "ok"

    @public
    def half_writer(number: int):
        db.session.add(SchedulerHeartbeat(name=f"half-{next(calls)}", beat_at=utcnow(), host="h", pid=number))
        db.session.commit()
        abort(409)

    app.add_url_rule("/walk-guard/fragile", "walk_guard_fragile", fragile, methods=["POST"])
    app.add_url_rule("/walk-guard/half/<int:number>", "walk_guard_half", half_writer, methods=["POST"])
    walk = HostileWalk(app, {"number": 1}, [make_identity(app, make_user, ANONYMOUS)])
    walk.rules = lambda: [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("walk_guard")]

    report = walk.walk()

    assert {finding.endpoint for finding in report.server_errors} == {"walk_guard_fragile"}
    assert {finding.endpoint for finding in report.partial_writes} == {"walk_guard_half"}
