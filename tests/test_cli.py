"""`flask users create`, `flask users set-password` and `flask seed demo`."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth import services as auth
from app.auth.models import User
from app.auth.roles import Role
from app.calendar.models import Region
from app.extensions import db
from app.oncall.models import EscalationPolicy, Rotation, Schedule
from app.seed import DEMO_PASSWORD
from tests.conftest import PASSWORD

GOOD_PASSWORD = "a long enough password"


@pytest.fixture
def flask_cli(app):
    """Run `flask <args>` against the test app; returns the click Result."""
    runner = app.test_cli_runner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input)

    return run


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_users_create_makes_a_user_who_can_sign_in(flask_cli):
    result = flask_cli("users", "create", "--email", "Boss@Example.com", "--role", "admin",
                       "--password", GOOD_PASSWORD)

    assert result.exit_code == 0, result.output
    assert "Created boss@example.com (admin)." in result.output
    user = auth.find_user_by_email("boss@example.com")
    assert (user.role, user.name, user.time_zone) == (Role.ADMIN, "Boss", "UTC")
    assert auth.authenticate("boss@example.com", GOOD_PASSWORD) == user


def test_users_create_is_audited_as_the_cli(flask_cli):
    flask_cli("users", "create", "--email", "ops@example.com", "--role", "crisis_team", "--name", "Ops Desk",
              "--time-zone", "Europe/London", "--password", GOOD_PASSWORD)

    [event] = db.session.scalars(select(AuditEvent)).all()
    assert (event.action, event.entity_type, event.actor_label, event.actor_id) == ("create", "users", "cli", None)
    assert event.changes["name"] == [None, "Ops Desk"]
    assert event.changes["time_zone"] == [None, "Europe/London"]
    assert event.changes["password_hash"] == [None, "(hidden)"]


def test_users_create_prompts_for_the_password_twice_when_not_given(flask_cli):
    result = flask_cli("users", "create", "--email", "ops@example.com", "--role", "responder",
                       input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert auth.authenticate("ops@example.com", GOOD_PASSWORD) is not None


@pytest.mark.parametrize("args, message", [
    (["--email", "new@example.com", "--role", "superuser", "--password", GOOD_PASSWORD], "Invalid value for '--role'"),
    (["--email", "taken@example.com", "--role", "admin", "--password", GOOD_PASSWORD], "already exists"),
    (["--email", "TAKEN@example.com", "--role", "admin", "--password", GOOD_PASSWORD], "already exists"),
    (["--email", "new@example.com", "--role", "admin", "--password", "short"], "Use at least 12 characters."),
    (["--email", "new@example.com", "--role", "admin", "--password", GOOD_PASSWORD, "--time-zone", "Moon/Base"],
     "Unknown time zone"),
    (["--role", "admin", "--password", GOOD_PASSWORD], "Missing option '--email'"),
])
def test_users_create_refuses_bad_input_with_a_clear_message_and_creates_nobody(make_user, flask_cli, args, message):
    make_user("responder", email="taken@example.com")
    users_before, events_before = count(User), count(AuditEvent)

    result = flask_cli("users", "create", *args)

    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert (count(User), count(AuditEvent)) == (users_before, events_before)
    assert auth.find_user_by_email("new@example.com") is None


def test_set_password_replaces_the_password_and_is_audited_masked(make_user, flask_cli):
    user = make_user("responder")

    result = flask_cli("users", "set-password", "--email", user.email.upper(), "--password", "a fresh passphrase")

    assert result.exit_code == 0, result.output
    assert f"Password set for {user.email}." in result.output
    assert auth.authenticate(user.email, "a fresh passphrase") == user
    assert auth.authenticate(user.email, PASSWORD) is None  # the old one no longer works
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "update")).all()
    assert (event.actor_label, event.changes) == ("cli", {"password_hash": ["(hidden)", "(hidden)"]})


def test_set_password_for_an_unknown_email_fails(make_user, flask_cli):
    result = flask_cli("users", "set-password", "--email", "nobody@example.com", "--password", GOOD_PASSWORD)

    assert result.exit_code == 1
    assert "No user with email nobody@example.com." in result.output


def test_set_password_refuses_a_short_password_and_keeps_the_old_one(make_user, flask_cli):
    user = make_user("responder")

    result = flask_cli("users", "set-password", "--email", user.email, "--password", "short")

    assert result.exit_code == 1
    assert "Use at least 12 characters." in result.output
    assert auth.authenticate(user.email, PASSWORD) == user


def test_seed_demo_creates_three_regions_and_one_user_per_role(flask_cli):
    result = flask_cli("seed", "demo")

    assert result.exit_code == 0, result.output
    regions = {r.name: (r.time_zone, r.holiday_country) for r in db.session.scalars(select(Region))}
    assert regions == {"APAC": ("Asia/Manila", "PH"), "EMEA": ("Europe/London", "GB"),
                       "AMER": ("America/Los_Angeles", "US")}
    users = db.session.scalars(select(User)).all()
    assert sorted(user.role.value for user in users) == sorted(role.value for role in Role)
    for user in users:
        assert user.region is not None and user.time_zone == user.region.time_zone
        assert user.role.value in result.output and user.email in result.output
    assert DEMO_PASSWORD in result.output
    assert auth.authenticate("admin@acme.example", DEMO_PASSWORD) is not None
    # The demo risks come with eight weeks of made-up history in their owners' names; everything else is "seed".
    made_up = ("risks", "risk_actions")
    assert set(db.session.scalars(select(AuditEvent.actor_label).where(AuditEvent.entity_type.not_in(made_up)))) \
        == {"seed"}


def test_seed_demo_twice_changes_nothing(flask_cli):
    first = flask_cli("seed", "demo")
    counts = (count(Region), count(User), count(Rotation), count(Schedule), count(EscalationPolicy))
    events = count(AuditEvent)

    second = flask_cli("seed", "demo")

    assert first.exit_code == second.exit_code == 0
    assert counts == (3, 4, 4, 1, 2)  # two policies: the on-call one and the crisis team's fallback
    assert (count(Region), count(User), count(Rotation), count(Schedule), count(EscalationPolicy)) == counts
    assert count(AuditEvent) == events  # the second run wrote nothing
    assert second.output == first.output  # the same logins are printed again
