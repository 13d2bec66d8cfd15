"""Accounts, passwords and API tokens, through app/auth/services.py on both backends."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select, text

from app import create_app
from app.auth import services as auth
from app.auth.models import ApiToken, User
from app.auth.roles import Role
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from tests import support
from tests.conftest import PASSWORD

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def fresh(user: User) -> User:
    """The user as stored, not as the session remembers it."""
    db.session.expire_all()
    return db.session.get(User, user.id)


# --- create_user -------------------------------------------------------------------------------------------

def test_create_user_stores_the_email_trimmed_and_lower_cased(app):
    user = auth.create_user(email="  Ada.Lovelace@Example.COM ", name=" Ada ", role=Role.RESPONDER,
                            password=PASSWORD)
    stored = fresh(user)
    assert stored.email == "ada.lovelace@example.com"
    assert stored.name == "Ada"
    assert stored.active is True


def test_create_user_refuses_an_email_that_is_taken_in_any_case(app, make_user):
    make_user(Role.RESPONDER, email="taken@example.com")
    with pytest.raises(Conflict) as refused:
        auth.create_user(email="TAKEN@example.com", name="Other", role=Role.EXECUTIVE, password=PASSWORD)
    assert refused.value.field == "email"
    assert user_count() == 1


@pytest.mark.parametrize("password", ["", "short", "x" * 11])
def test_create_user_refuses_a_password_under_twelve_characters(app, password):
    with pytest.raises(Invalid) as refused:
        auth.create_user(email="new@example.com", name="New", role=Role.RESPONDER, password=password)
    assert refused.value.field == "password"
    assert user_count() == 0


def test_create_user_accepts_a_password_of_exactly_twelve_characters(app):
    user = auth.create_user(email="new@example.com", name="New", role=Role.RESPONDER, password="x" * 12)
    assert auth.authenticate("new@example.com", "x" * 12) == user


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "", "utc "])
def test_create_user_refuses_an_unknown_time_zone(app, zone):
    with pytest.raises(Invalid) as refused:
        auth.create_user(email="new@example.com", name="New", role=Role.RESPONDER, password=PASSWORD,
                         time_zone=zone)
    assert refused.value.field == "time_zone"
    assert user_count() == 0


def test_the_default_password_hash_is_scrypt():
    # No PASSWORD_HASH_METHOD override: this is what production gets.
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, env=support.TEST_ENV)
    with app.app_context():
        db.create_all()
        try:
            user = auth.create_user(email="a@example.com", name="A", role=Role.ADMIN, password=PASSWORD)
            assert user.password_hash.startswith("scrypt:")
            assert auth.authenticate("a@example.com", PASSWORD) == user
        finally:
            db.session.remove()
            db.engine.dispose()


# --- authenticate ------------------------------------------------------------------------------------------

def test_authenticate_returns_the_user_and_records_the_login_time(app, make_user):
    user = make_user(Role.RESPONDER, email="ops@example.com")
    assert user.last_login_at is None
    with time_machine.travel(T0, tick=False):
        assert auth.authenticate("OPS@example.com ", PASSWORD) == user
    assert fresh(user).last_login_at == T0


@pytest.mark.parametrize("email, password", [
    ("ops@example.com", "wrong password entirely"),
    ("ops@example.com", PASSWORD.upper()),
    ("nobody@example.com", PASSWORD),
])
def test_authenticate_refuses_wrong_credentials_without_recording_a_login(app, make_user, email, password):
    user = make_user(Role.RESPONDER, email="ops@example.com")
    assert auth.authenticate(email, password) is None
    assert fresh(user).last_login_at is None


def test_authenticate_refuses_an_inactive_user_even_with_the_right_password(app, make_user):
    user = make_user(Role.RESPONDER, email="gone@example.com")
    auth.update_user(user, name=user.name, role=user.role, time_zone="UTC", region_id=None, active=False)
    assert auth.authenticate("gone@example.com", PASSWORD) is None
    assert fresh(user).last_login_at is None


# --- update_user and the last admin ------------------------------------------------------------------------

def _change(user: User, **changes):
    values = {"name": user.name, "role": user.role, "time_zone": user.time_zone, "region_id": user.region_id,
              "active": user.active} | changes
    return auth.update_user(user, **values)


@pytest.mark.parametrize("change", [{"role": Role.CRISIS_TEAM}, {"role": Role.EXECUTIVE}, {"active": False}])
def test_the_last_active_admin_cannot_be_demoted_or_deactivated(app, make_user, change):
    admin = make_user(Role.ADMIN)
    with pytest.raises(Forbidden) as refused:
        _change(admin, **change)
    assert refused.value.field == "role"
    db.session.rollback()
    stored = fresh(admin)
    assert (stored.role, stored.active) == (Role.ADMIN, True)


def test_an_inactive_admin_does_not_count_as_another_admin(app, make_user):
    admin = make_user(Role.ADMIN)
    _change(make_user(Role.ADMIN), active=False)
    with pytest.raises(Forbidden):
        _change(admin, role=Role.RESPONDER)


@pytest.mark.parametrize("change", [{"role": Role.CRISIS_TEAM}, {"active": False}])
def test_an_admin_can_be_demoted_or_deactivated_while_another_admin_is_active(app, make_user, change):
    admin = make_user(Role.ADMIN)
    make_user(Role.ADMIN)
    _change(admin, **change)
    stored = fresh(admin)
    assert stored.role == change.get("role", Role.ADMIN)
    assert stored.active is change.get("active", True)


def test_update_user_refuses_an_unknown_time_zone(app, make_user):
    user = make_user(Role.RESPONDER, time_zone="Europe/Paris")
    with pytest.raises(Invalid) as refused:
        _change(user, time_zone="Europe/Atlantis", name="Changed")
    assert refused.value.field == "time_zone"
    stored = fresh(user)
    assert (stored.time_zone, stored.name) == ("Europe/Paris", "Responder 1")


# --- passwords -----------------------------------------------------------------------------------------------

def test_changing_ones_password_needs_the_current_password(app, make_user):
    user = make_user(Role.RESPONDER, email="me@example.com")
    with pytest.raises(Invalid) as refused:
        auth.change_own_password(user, current_password="not my password", new_password="a brand new secret")
    assert refused.value.field == "current_password"
    assert auth.authenticate("me@example.com", PASSWORD) == user
    assert auth.authenticate("me@example.com", "a brand new secret") is None


def test_changing_ones_password_with_the_current_one_replaces_it(app, make_user):
    user = make_user(Role.RESPONDER, email="me@example.com")
    auth.change_own_password(user, current_password=PASSWORD, new_password="a brand new secret")
    assert auth.authenticate("me@example.com", "a brand new secret") == user
    assert auth.authenticate("me@example.com", PASSWORD) is None


def test_changing_ones_password_refuses_a_short_new_password(app, make_user):
    user = make_user(Role.RESPONDER, email="me@example.com")
    with pytest.raises(Invalid) as refused:
        auth.change_own_password(user, current_password=PASSWORD, new_password="too short")
    assert refused.value.field == "new_password"
    assert auth.authenticate("me@example.com", PASSWORD) == user


def test_set_password_replaces_the_password_and_checks_its_length(app, make_user):
    user = make_user(Role.RESPONDER, email="me@example.com")
    with pytest.raises(Invalid):
        auth.set_password(user, "short")
    auth.set_password(user, "reset by an admin")
    assert auth.authenticate("me@example.com", "reset by an admin") == user
    assert auth.authenticate("me@example.com", PASSWORD) is None


# --- API tokens ------------------------------------------------------------------------------------------------

def test_create_token_returns_the_secret_once_and_stores_only_its_sha256(app, make_user):
    user = make_user(Role.RESPONDER)
    token, raw = auth.create_token(user, name=" monitoring ")
    assert raw.startswith(f"qd_{token.prefix}_")
    assert token.name == "monitoring"
    row = db.session.execute(text("SELECT * FROM api_tokens WHERE id = :id"), {"id": token.id}).mappings().one()
    assert row["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    # Everything after the prefix: the secret's own alphabet has "_", so splitting at the last one could leave a
    # character or two, found by chance in the hash or a date (a full run failed on it once).
    secret_part = raw.removeprefix(f"qd_{token.prefix}_")
    assert len(secret_part) >= 40
    assert not any(secret_part in str(value) for value in row.values())


def test_create_token_needs_a_name(app, make_user):
    with pytest.raises(Invalid) as refused:
        auth.create_token(make_user(Role.RESPONDER), name="   ")
    assert refused.value.field == "name"
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_live_token_identifies_its_user(app, make_user):
    user = make_user(Role.EXECUTIVE)
    _token, raw = auth.create_token(user, name="script")
    assert auth.user_for_token(raw) == user


def test_a_token_with_the_right_prefix_but_a_wrong_secret_identifies_nobody(app, make_user):
    _token, raw = auth.create_token(make_user(Role.EXECUTIVE), name="script")
    forged = raw[:-4] + ("aaaa" if not raw.endswith("aaaa") else "bbbb")
    assert auth.user_for_token(forged) is None


@pytest.mark.parametrize("raw", ["", "qd_", "qd_abc", "nonsense", "Bearer qd_x_y", "qd_deadbeef_whatever"])
def test_malformed_or_unknown_tokens_identify_nobody(app, make_user, raw):
    auth.create_token(make_user(Role.EXECUTIVE), name="script")
    assert auth.user_for_token(raw) is None


def test_a_revoked_token_identifies_nobody(app, make_user):
    user = make_user(Role.EXECUTIVE)
    token, raw = auth.create_token(user, name="script")
    auth.revoke_token(user, token.id)
    assert auth.user_for_token(raw) is None


def test_the_token_of_an_inactive_user_identifies_nobody(app, make_user):
    user = make_user(Role.EXECUTIVE)
    _token, raw = auth.create_token(user, name="script")
    _change(user, active=False)
    assert auth.user_for_token(raw) is None


def test_token_use_is_recorded_at_most_every_five_minutes(app, make_user):
    token, raw = auth.create_token(make_user(Role.EXECUTIVE), name="script")

    def last_used_after_use_at(moment: datetime) -> datetime | None:
        with time_machine.travel(moment, tick=False):
            assert auth.user_for_token(raw) is not None
        db.session.expire_all()
        return db.session.get(ApiToken, token.id).last_used_at

    assert last_used_after_use_at(T0) == T0
    assert last_used_after_use_at(T0 + timedelta(minutes=4, seconds=59)) == T0
    assert last_used_after_use_at(T0 + timedelta(minutes=5, seconds=1)) == T0 + timedelta(minutes=5, seconds=1)


def test_a_user_can_revoke_their_own_token(app, make_user):
    user = make_user(Role.RESPONDER)
    token, _raw = auth.create_token(user, name="script")
    with time_machine.travel(T0, tick=False):
        auth.revoke_token(user, token.id)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at == T0


@pytest.mark.parametrize("role", [Role.CRISIS_TEAM, Role.RESPONDER, Role.EXECUTIVE])
def test_a_non_admin_cannot_revoke_someone_elses_token(app, make_user, role):
    owner = make_user(Role.RESPONDER)
    token, raw = auth.create_token(owner, name="script")
    with pytest.raises(NotFound):
        auth.revoke_token(make_user(role), token.id)
    assert auth.user_for_token(raw) == owner


def test_an_admin_can_revoke_anyones_token(app, make_user):
    owner = make_user(Role.RESPONDER)
    token, raw = auth.create_token(owner, name="script")
    auth.revoke_token(make_user(Role.ADMIN), token.id)
    assert auth.user_for_token(raw) is None


def test_revoking_a_token_that_does_not_exist_is_not_found(app, make_user):
    with pytest.raises(NotFound):
        auth.revoke_token(make_user(Role.ADMIN), 987654)


def test_list_tokens_shows_only_ones_own_tokens(app, make_user):
    me, other = make_user(Role.RESPONDER), make_user(Role.RESPONDER)
    mine, _ = auth.create_token(me, name="mine")
    auth.create_token(other, name="theirs")
    assert auth.list_tokens(me) == [mine]
