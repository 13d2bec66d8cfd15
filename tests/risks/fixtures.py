"""Fixtures shared by the register and the weekly review tests: risks made through the services, a clock, emails."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.oncall.models import ContactKind, ContactMethod
from app.risks import services as risks
from app.timeutil import utcnow
from tests.risks.support import risk_fields

# Q4 FY27 (fiscal year from February) runs from 1 November 2026 to 31 January 2027.
# Tuesday 17 November 2026, 18:00 UTC is 10:00 in Los Angeles, the review's default zone.
TUESDAY = datetime(2026, 11, 17, 18, tzinfo=UTC)


@pytest.fixture
def owner(make_user):
    return make_user("crisis_team", name="Olive Owner", time_zone="UTC")


@pytest.fixture
def make_risk(app, owner):
    """Create a risk through the service; any field can be overridden (owner by `owner_id`)."""
    counter = {"n": 0}

    def make(**fields):
        counter["n"] += 1
        fields.setdefault("title", f"Risk {counter['n']}")
        return risks.create_risk(**risk_fields(owner, **fields))

    return make


@pytest.fixture
def give_email(app):
    """A verified email method for a person, written straight to the database."""

    def give(person, address: str | None = None, *, verified: bool = True):
        method = ContactMethod(user_id=person.id, kind=ContactKind.EMAIL, address=address or person.email,
                               verified_at=utcnow() if verified else None)
        db.session.add(method)
        db.session.commit()
        return method

    return give
