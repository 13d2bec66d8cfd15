"""Fixtures for the vendor tests: vendors, ladders and contacts made through the services."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.vendors import ladder
from app.vendors import services as vendors

# Q4 FY27 (fiscal year from February) runs from 1 November 2026 to 31 January 2027; Q1 FY28 starts 1 February.
IN_Q4_FY27 = datetime(2026, 11, 23, 12, tzinfo=UTC)
IN_Q1_FY28 = datetime(2027, 2, 2, 12, tzinfo=UTC)


@pytest.fixture
def make_vendor(app):
    counter = {"n": 0}

    def make(levels: int = 0, **fields):
        counter["n"] += 1
        fields.setdefault("name", f"Vendor {counter['n']}")
        fields.setdefault("tier", "critical")
        vendor = vendors.create_vendor(**fields)
        for number in range(1, levels + 1):
            ladder.add_level(vendor, label=f"Rung {number}")
        return vendor

    return make


@pytest.fixture
def make_contact(app):
    counter = {"n": 0}

    def make(vendor, level: int = 1, **fields):
        counter["n"] += 1
        fields.setdefault("kind", "external")
        fields.setdefault("name", f"Contact {counter['n']}")
        if not any(fields.get(key) for key in ("phone", "mobile", "email")):
            fields["phone"] = f"+1415555{100 + counter['n']:04d}"
        return ladder.create_contact(vendor, level=level, **fields)

    return make


@pytest.fixture
def give_method(app):
    """A verified (or not) contact method for a person, written straight to the database."""
    from app.extensions import db
    from app.oncall.models import ContactKind, ContactMethod
    from app.timeutil import utcnow

    def give(person, kind: str = "email", address: str = "owner@example.com", *, verified: bool = True):
        method = ContactMethod(user_id=person.id, kind=ContactKind(kind), address=address,
                               verified_at=utcnow() if verified else None)
        db.session.add(method)
        db.session.commit()
        return method

    return give
