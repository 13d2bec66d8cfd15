"""The figures' arithmetic: nearest-rank p90, means, durations for people, quarters by detection."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.incidents import metrics, review, services
from app.timeutil import fiscal_quarter
from tests.incidents.conftest import NOW


@pytest.mark.parametrize("values, expected", [
    ([], None), ([42], 42), (list(range(1, 11)), 9), (list(range(1, 21)), 18), ([5, 1, 100], 100),
])
def test_p90_is_the_nearest_rank_a_time_that_really_happened(values, expected):
    assert metrics.p90(values) == expected


@pytest.mark.parametrize("seconds, text", [(None, "—"), (59, "1 min"), (600, "10 min"), (3660, "1 h 01 min"),
                                           (47 * 3600, "47 h 00 min"), (50 * 3600, "2 d 2 h")])
def test_durations_read_as_minutes_hours_or_days(seconds, text):
    assert metrics.minutes(seconds) == text


def test_incidents_count_in_the_quarter_they_were_detected_in(app, clock, people, declare):
    late = declare(title="Detected in Q3", detected_at=NOW - timedelta(days=30))  # 19 Oct: Q3 FY27
    declare(title="Q4", severity="SEV1")
    clock.shift(timedelta(minutes=20))
    services.edit_instant(late, name="acknowledged_at", value=NOW, reason="paged late", actor=people["rowan"])
    review.resolve(late.id, resolution="ok", actor=people["rowan"])

    q3, q4, overall = (metrics.figures(fiscal_quarter(2027, 3, 2)), metrics.figures(fiscal_quarter(2027, 4, 2)),
                       metrics.figures(None))

    assert (q3.count, q3.by_severity["SEV3"], q4.count, q4.by_severity["SEV1"], overall.count) == (1, 1, 1, 1, 2)
    assert q3.acknowledge_mean == timedelta(days=30).total_seconds()
    assert q3.resolve_p90 == timedelta(days=30, minutes=20).total_seconds()
    assert q4.resolve_mean is None and q4.acknowledge_mean == 0


def test_the_quarter_of_an_incident_is_decided_by_the_close_regions_date(app, clock, people, declare):
    """05:00Z on 1 November is still 31 October in Los Angeles: the incident belongs to Q3, like the close."""
    app.config["CLOSE_TIME_ZONE"] = "America/Los_Angeles"
    declare(title="Halloween night", detected_at=datetime(2026, 11, 1, 5, 0, tzinfo=UTC))
    q3, q4 = metrics.figures(fiscal_quarter(2027, 3, 2)), metrics.figures(fiscal_quarter(2027, 4, 2))
    assert (q3.count, q4.count) == (1, 0)
    app.config["CLOSE_TIME_ZONE"] = "Asia/Manila"  # 13:00 on 1 November there: Q4
    q3, q4 = metrics.figures(fiscal_quarter(2027, 3, 2)), metrics.figures(fiscal_quarter(2027, 4, 2))
    assert (q3.count, q4.count) == (0, 1)
