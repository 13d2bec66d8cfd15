"""Fixtures for readiness: a frozen clock in Q4 FY27 and the other domains' own record makers, reused."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.drtests.conftest import make_exercise, make_template  # noqa: F401
from tests.risks.fixtures import make_risk, owner  # noqa: F401
from tests.vendors.conftest import make_contact, make_vendor  # noqa: F401
from tests.watchlist.conftest import make_app, make_job, ping  # noqa: F401

# Q4 FY27 (fiscal year from February) runs from 1 November 2026 to 31 January 2027. On a weekends-only
# calendar BD0 is Friday 29 January 2027 and BD-5 is Friday 22 January.
NOV_17 = datetime(2026, 11, 17, 12, tzinfo=UTC)  # a Tuesday, long before the close
JAN_25 = datetime(2027, 1, 25, 12, tzinfo=UTC)  # a Monday after BD-5


@pytest.fixture
def clock_start():
    return NOV_17


@pytest.fixture(autouse=True)
def _frozen(clock):
    """Time stands still on NOV_17 in every readiness test unless the test moves it with clock.move_to(...)."""
