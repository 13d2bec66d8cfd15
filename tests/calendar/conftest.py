"""Fixtures for the calendar tests: region definitions and the worked example's clock."""
from __future__ import annotations

from datetime import datetime, time

import pytest
import time_machine

from app.calendar import services as calendar
from app.timeutil import UTC

# A US region: its public holidays are the ones the worked example counts by hand.
AMER = {"name": "AMER", "time_zone": "America/New_York", "business_start": time(8), "business_end": time(17),
        "holiday_country": "US"}
EMEA = {"name": "EMEA", "time_zone": "Europe/London", "business_start": time(9), "business_end": time(17),
        "holiday_country": "GB", "holiday_subdivision": "ENG"}
# Sunday 22 November 2026, midday UTC: inside Q4 FY27 (fiscal year starting in February).
WORKED_EXAMPLE_NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def pytest_configure(config):
    config.addinivalue_line("markers", "config(**overrides): Flask config overrides for the app fixture")


@pytest.fixture
def amer(app):
    return calendar.create_region(**AMER)


@pytest.fixture
def worked_example_day():
    """Freeze the clock at the worked example's moment."""
    with time_machine.travel(WORKED_EXAMPLE_NOW, tick=False):
        yield WORKED_EXAMPLE_NOW.date()
