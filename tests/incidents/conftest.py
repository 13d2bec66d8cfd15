"""Fixtures for incidents: a still clock, people who can be reached, an incident declared through the service.

The stand-in Twilio server and the SMTP sink come from the paging tests (tests/alerting/conftest.py).
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.incidents import services
from app.oncall.models import ContactKind, ContactMethod, NotificationRule
from tests.alerting.conftest import phones, smtp_server, smtp_sink, twilio, twilio_server  # noqa: F401
from tests.watchlist.conftest import make_app, make_job  # noqa: F401

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday in Q4 FY27, far from its close window


@pytest.fixture
def clock_start():
    return NOW


def reach(person, kind: str, address: str, *, rule: bool = True) -> ContactMethod:
    """Give a person a verified contact method (and a notification rule paging it at once)."""
    method = ContactMethod(user_id=person.id, kind=ContactKind(kind), address=address, verified_at=datetime.now(UTC))
    db.session.add(method)
    db.session.flush()
    if rule:
        db.session.add(NotificationRule(user_id=person.id, contact_method_id=method.id, delay_minutes=0))
    db.session.commit()
    return method


@pytest.fixture
def people(make_user):
    """A responder (commander), a crisis team member and two executives, each with an email address."""
    rowan = make_user("responder", name="Rowan", email="rowan@example.com")
    casey = make_user("crisis_team", name="Casey", email="casey@example.com")
    emery = make_user("executive", name="Emery", email="emery@example.com")
    ellis = make_user("executive", name="Ellis", email="ellis@example.com")
    for person in (rowan, casey, emery, ellis):
        reach(person, "email", person.email, rule=False)
    return {"rowan": rowan, "casey": casey, "emery": emery, "ellis": ellis}


@pytest.fixture
def declare(people):
    """Declare an incident through the service: declare(title=..., severity="SEV3", by=person, **fields)."""

    def make(title: str = "Billing run failed", severity: str = "SEV3", by=None, **fields):
        return services.declare(title=title, severity=severity, declared_by=by or people["rowan"], **fields)

    return make
