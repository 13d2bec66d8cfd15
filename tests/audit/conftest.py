"""Fixtures for the audit trail tests: reading the trail, and a small trail spread over several days."""
from __future__ import annotations

from datetime import datetime, time

import pytest
import time_machine
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.audit.recorder import acting_as
from app.auth import services as auth
from app.auth.roles import Role
from app.calendar import services as calendar
from app.extensions import db
from app.timeutil import UTC

EMEA = {"name": "EMEA", "time_zone": "Europe/London", "business_start": time(9), "business_end": time(17),
        "holiday_country": "GB"}


def pytest_configure(config):
    config.addinivalue_line("markers", "config(**overrides): Flask config overrides for the app fixture")


@pytest.fixture
def audit_events(app):
    """The trail in the order it was written, optionally narrowed: audit_events(entity_type="regions")."""

    def fetch(**where) -> list[AuditEvent]:
        query = select(AuditEvent).order_by(AuditEvent.id)
        for column, value in where.items():
            query = query.where(getattr(AuditEvent, column) == value)
        return list(db.session.scalars(query))

    return fetch


@pytest.fixture
def trail(app) -> int:
    """Four changes on four days in January 2025, by three actors, before anyone signs in.

    2025-01-10 09:00      cli     create  regions  APAC
    2025-01-11 23:59:59   seed    update  regions  APAC   (last second of the day)
    2025-01-12 00:00:00   system  delete  regions  APAC   (first second of the day)
    2025-01-13 12:00      cli     create  users    ops@example.com

    Returns the (deleted) region's id.
    """
    with time_machine.travel(datetime(2025, 1, 10, 9, tzinfo=UTC), tick=False), acting_as("cli"):
        region = calendar.create_region(name="APAC", time_zone="Asia/Manila", business_start=time(9),
                                        business_end=time(18), holiday_country="PH")
        region_id = region.id
    with time_machine.travel(datetime(2025, 1, 11, 23, 59, 59, tzinfo=UTC), tick=False), acting_as("seed"):
        calendar.update_region(region, name="APAC", time_zone="Asia/Singapore", business_start=time(9),
                               business_end=time(18), holiday_country="PH")
    with time_machine.travel(datetime(2025, 1, 12, tzinfo=UTC), tick=False):
        calendar.delete_region(region)
    with time_machine.travel(datetime(2025, 1, 13, 12, tzinfo=UTC), tick=False), acting_as("cli"):
        auth.create_user(email="ops@example.com", name="Ops", role=Role.CRISIS_TEAM,
                         password="a long enough password")
    return region_id
