"""Fixtures: see tests/risks/fixtures.py."""
from tests.risks.fixtures import give_email, make_risk, owner  # noqa: F401
