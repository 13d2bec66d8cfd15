"""Helpers for the account, session and token tests."""
from __future__ import annotations

from datetime import time

import pytest

from app.calendar import services as calendar
from tests.conftest import csrf_token_from


@pytest.fixture
def make_region(app):
    """Create a region through the service (so it has an audit history); names are unique per call."""
    counter = {"n": 0}

    def make(**fields):
        counter["n"] += 1
        fields.setdefault("name", f"Region {counter['n']}")
        fields.setdefault("time_zone", "Europe/London")
        fields.setdefault("business_start", time(9))
        fields.setdefault("business_end", time(17))
        return calendar.create_region(**fields)

    return make


def page_csrf(client, url: str) -> str:
    """The CSRF token from the page at `url`, for posting a form whose token field has a prefix."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return csrf_token_from(page.get_data(as_text=True))
