"""Incidents in the readiness score and on the executive page: the close-window gate, the track's findings, and
open incidents above everything else."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.incidents import review, severities, updates
from app.readiness.score import compute_readiness

JAN_27 = datetime(2027, 1, 27, 12, tzinfo=UTC)  # inside Q4 FY27's close window (BD-3 Tue 26 Jan to BD+3)


def track(readiness):
    return readiness.track("incidents")


def test_without_incidents_the_track_is_not_tracked(app, clock, people):
    result = track(compute_readiness())
    assert (result.score, result.note) == (None, "Not tracked yet: no incidents are recorded.")


def test_an_open_sev2_during_the_close_window_turns_the_quarter_red_naming_it(app, clock, people, declare):
    clock.move_to(JAN_27)
    incident = declare(severity="SEV2", title="Bookings feed down")
    declare(severity="SEV3", title="Slow report")

    readiness = compute_readiness()

    assert readiness.colour == "red"
    assert [gate.text for gate in readiness.gates if gate.cap == "red"] == [
        f"INC-{incident.id} SEV2 open during the close window: Bookings feed down"]


def test_the_same_incident_outside_the_window_or_resolved_is_no_gate(app, clock, people, declare):
    incident = declare(severity="SEV1")
    assert [gate for gate in compute_readiness().gates if "INC-" in gate.text] == []  # 18 Nov: no window
    clock.move_to(JAN_27)
    review.resolve(incident.id, resolution="Fixed", actor=people["rowan"])
    assert [gate for gate in compute_readiness().gates if "INC-" in gate.text] == []


def test_overdue_reviews_and_open_follow_ups_cost_the_track_points(app, clock, people, declare):
    severities.save_settings(review_business_days=1)
    overdue = declare(title="Late review")
    review.resolve(overdue.id, resolution="Fixed", actor=people["rowan"])
    done = declare(title="Reviewed")
    review.resolve(done.id, resolution="Fixed", actor=people["rowan"])
    pending = review.review_of(done)
    review.add_follow_up(pending, kind="risk", title="Add a second node", owner_id=people["casey"].id,
                         likelihood=3, impact=3)
    review.complete_review(done, actor=people["rowan"], what_happened="x", root_cause="y")
    clock.shift(timedelta(days=2))

    result = track(compute_readiness())

    assert result.score == 100 - 6 - 3
    assert [reason.text for reason in result.reasons] == [
        f"Review of INC-{overdue.id} overdue since 19 Nov", "Follow-up open: Add a second node"]


def test_the_executive_page_shows_open_incidents_above_everything_then_the_figures(app, clock, people, declare,
                                                                                 login_as):
    incident = declare(severity="SEV2", title="Bookings feed down")
    updates.post_update(incident.id, status="identified", message="Feed host out of disk", author=people["rowan"])
    clock.shift(timedelta(minutes=75))

    page = login_as("executive").get("/readiness").get_data(as_text=True)

    assert page.index('data-testid="open-incidents"') < page.index('data-testid="readiness-summary"')
    section = page[page.index('data-testid="open-incidents"'):page.index('data-testid="readiness-summary"')]
    assert f"INC-{incident.id} Bookings feed down" in section and "open 1 h 15 min" in section
    assert "Feed host out of disk" in section and "update overdue by 15 min" in section
    assert "Q4 FY27 incident figures" in section
