"""The live readiness is computed once and kept: a view does not recompute it; a write or a minute does."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from app.extensions import db
from app.readiness.live import KEPT
from app.watchlist.detection import run_detection_pass
from tests.conftest import count_queries
from tests.readiness.conftest import NOV_17


def register_reads(run) -> int:
    """Statements reading the risk register while `run` ran: the page's top risks, plus the risks track's when
    readiness is computed."""
    seen = []

    def note(_conn, _cursor, statement, *_args):
        if "FROM risks" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return len(seen)


def test_a_second_view_reads_the_kept_readiness(login_as, make_risk):
    make_risk(likelihood=5, impact=5)
    client = login_as("crisis_team")
    first = count_queries(client, "/readiness")

    second = count_queries(client, "/readiness")

    assert second < first - 5  # the tracks' queries are not sent again


def test_a_write_makes_the_next_view_compute_afresh(login_as, make_risk):
    client = login_as("crisis_team")
    client.get("/readiness")
    kept = register_reads(lambda: client.get("/readiness"))

    make_risk(title="Ledger cut-over slips", likelihood=5, impact=5)  # committed through the service

    assert register_reads(lambda: client.get("/readiness")) > kept
    assert "Ledger cut-over slips" in client.get("/readiness").get_data(as_text=True)


def test_a_detection_pass_that_moves_a_job_makes_the_next_view_compute_afresh(app, login_as, make_job, ping, clock):
    """On PostgreSQL the detector writes with a textual statement (its rows as JSON): it counts as a write too."""
    ping(make_job(interval_minutes=60, grace_minutes=15))
    client = login_as("crisis_team")
    client.get("/readiness")
    clock.move_to(NOV_17 + timedelta(minutes=30))
    assert run_detection_pass() == {}  # nothing due: the kept readiness stays
    assert app.extensions[KEPT]

    clock.move_to(NOV_17 + timedelta(minutes=61))
    assert run_detection_pass() == {"late": 1}

    assert not app.extensions[KEPT]


def test_the_kept_readiness_is_computed_again_after_a_minute(login_as, clock):
    client = login_as("crisis_team")
    client.get("/readiness")
    clock.move_to(NOV_17 + timedelta(seconds=30))
    kept = register_reads(lambda: client.get("/readiness"))

    clock.move_to(NOV_17 + timedelta(seconds=61))

    assert register_reads(lambda: client.get("/readiness")) > kept


def test_a_kept_view_sends_the_same_statements_with_more_data(login_as, make_risk):
    client = login_as("crisis_team")  # an editor: the page shows what to chase, kept with the readiness
    make_risk(likelihood=5, impact=5)
    client.get("/readiness")
    few = count_queries(client, "/readiness")
    for number in range(15):
        make_risk(title=f"More {number}", likelihood=1 + number % 5, impact=5)
    client.get("/readiness")  # computed afresh after the writes

    assert count_queries(client, "/readiness") == few <= 15
