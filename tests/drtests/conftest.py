"""Fixtures for the DR test tests: templates and exercises made through the services, and a clock to move."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.drtests import exercises, templates
from tests.risks.fixtures import make_risk, owner  # noqa: F401  (findings become actions on risks)

# Q4 FY27 (fiscal year from February) runs from 1 November 2026 to 31 January 2027.
START = datetime(2026, 11, 24, 8, tzinfo=UTC)

# (title, phase, minutes, depends_on, counts, evidence, critical)
BASIC_STEPS = [
    ("Freeze batch jobs", "prepare", 10, "", True, False, False),
    ("Fail over the database", "failover", 20, "1", True, False, True),
    ("Wait for the change board", "failover", 15, "2", False, False, False),
    ("Repoint the application", "failover", 10, "3", True, False, False),
    ("Validate order entry", "validate", 15, "4", True, True, False),
    ("Fail back", "failback", 30, "5", True, False, False),
    ("Close the test", "close", 5, "6", True, False, False),
]


@pytest.fixture
def clock_start():
    """The clock (tests/conftest.py) stands still here; `clock.at(moment)` and `clock.plus(minutes)` move it."""
    return START


@pytest.fixture
def make_template(app):
    counter = {"n": 0}

    def make(steps=BASIC_STEPS, rto_minutes=60, rpo_minutes=15, **fields):
        counter["n"] += 1
        template = templates.create_template(name=fields.pop("name", f"Template {counter['n']}"),
                                             systems=fields.pop("systems", "ERP"), rto_minutes=rto_minutes,
                                             rpo_minutes=rpo_minutes)
        for title, phase, minutes, deps, counts, evidence, critical in steps:
            templates.add_step(template, title=title, phase=phase, expected_minutes=minutes, depends_on=deps,
                               counts_toward_recovery=counts, evidence_required=evidence, critical=critical,
                               instructions=f"Do **{title.lower()}**.", owner="DBA")
        return template

    return make


@pytest.fixture
def make_exercise(app, make_template, make_user):
    def make(template=None, owner=None, kind="full_failover", scheduled_for=None, participants=(), **fields):
        template = template or make_template()
        owner = owner or make_user("crisis_team")
        return exercises.schedule_exercise(template=template, kind=kind,
                                           scheduled_for=scheduled_for or START + timedelta(days=1),
                                           owner_id=owner.id, participant_ids=[p.id for p in participants],
                                           **fields)

    return make
