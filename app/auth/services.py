"""Accounts, passwords and API tokens."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import ApiToken, User
from app.auth.roles import Role
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.timeutil import is_valid_zone, utcnow

MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "qd_"
TOKEN_SHAPE = re.compile(r"qd_[0-9a-f]{8}_[A-Za-z0-9_-]{20,100}")
# Only touch last_used_at this often: a busy integration must not turn every GET into a write.
TOKEN_USE_RESOLUTION = timedelta(minutes=5)


def _hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"Use at least {MIN_PASSWORD_LENGTH} characters.", field)
    if len(password) > 200:
        raise Invalid("Use at most 200 characters.", field)


def _check_zone(time_zone: str) -> None:
    if not is_valid_zone(time_zone):
        raise Invalid(f"Unknown time zone {time_zone!r}; use an IANA name such as Europe/London.", "time_zone")


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def user_finder() -> Callable[[str], User | None]:
    """find_user_by_email that looks each address up once, for a loader naming the same people many times. Holding
    the users also keeps them in the session, which otherwise drops loaded rows nothing refers to."""
    found: dict[str, User | None] = {}

    def find(email: str) -> User | None:
        if email not in found:
            found[email] = find_user_by_email(email)
        return found[email]

    return find


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.name)))


def create_user(*, email: str, name: str, role: Role | str, password: str,
                time_zone: str = "UTC", region_id: int | None = None) -> User:
    """Create an active user; refuse a taken email, a weak password or an unknown zone."""
    email = email.strip().lower()
    if find_user_by_email(email) is not None:
        raise Conflict(f"A user with email {email} already exists.", "email")
    _check_password_rules(password)
    _check_zone(time_zone)
    user = User(email=email, name=name.strip(), role=Role(role), time_zone=time_zone,
                region_id=region_id, password_hash=_hash_password(password), active=True)
    db.session.add(user)
    db.session.commit()
    return user


def _active_admin_count() -> int:
    # FOR UPDATE (PostgreSQL) makes two admins demoting each other at once take turns,
    # so the second sees the first's change; SQLite serialises writers anyway.
    return len(db.session.scalars(select(User.id).where(
        User.role == Role.ADMIN, User.active.is_(True)).with_for_update()).all())


def update_user(user: User, *, name: str, role: Role | str, time_zone: str,
                region_id: int | None, active: bool) -> User:
    """Change a user's profile, role or status; never leave the system without an active admin."""
    role = Role(role)
    _check_zone(time_zone)
    losing_admin = user.role == Role.ADMIN and user.active and (role != Role.ADMIN or not active)
    if losing_admin and _active_admin_count() <= 1:
        raise Forbidden("This is the last active administrator; appoint another one first.", "role")
    user.name, user.role, user.time_zone, user.region_id, user.active = name.strip(), role, time_zone, region_id, active
    db.session.commit()
    return user


def update_profile(user: User, *, name: str, time_zone: str, region_id: int | None) -> User:
    """A user edits their own name, time zone and region."""
    _check_zone(time_zone)
    user.name, user.time_zone, user.region_id = name.strip(), time_zone, region_id
    db.session.commit()
    return user


def set_password(user: User, password: str) -> None:
    """Replace a user's password (admin reset or CLI)."""
    _check_password_rules(password)
    user.password_hash = _hash_password(password)
    user.session_version += 1
    db.session.commit()


def change_own_password(user: User, *, current_password: str, new_password: str) -> None:
    """A user changes their password, proving they know the current one."""
    if not check_password_hash(user.password_hash, current_password):
        raise Invalid("The current password is wrong.", "current_password")
    _check_password_rules(new_password, "new_password")
    user.password_hash = _hash_password(new_password)
    user.session_version += 1
    db.session.commit()


def end_all_sessions(user: User) -> None:
    """Sign `user` out of every browser session at once (sign-out, "sign out everywhere"); tokens stay."""
    user.session_version += 1
    db.session.commit()


# A hash of a random string, checked when the email is unknown, so a wrong email
# takes as long as a wrong password and does not reveal who has an account.
_DUMMY_HASH: dict[str, str] = {}


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None; records the login time."""
    user = find_user_by_email(email)
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if user is None:
        dummy = _DUMMY_HASH.setdefault(method, generate_password_hash(secrets.token_hex(8), method=method))
        check_password_hash(dummy, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def _digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def create_token(user: User, *, name: str) -> tuple[ApiToken, str]:
    """Create an API token; the secret is returned once and only its hash is kept."""
    name = name.strip()
    if not name:
        raise Invalid("Give the token a name that says where it is used.", "name")
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(user_id=user.id, name=name, prefix=prefix, token_hash=_digest(raw))
    db.session.add(token)
    db.session.commit()
    return token, raw


def list_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())))


def list_live_tokens(user: User) -> list[ApiToken]:
    """The user's tokens that still work, newest first."""
    return [token for token in list_tokens(user) if token.is_live]


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (admins may revoke anyone's)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and user.role != Role.ADMIN):
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    return token


def user_for_token(raw_token: str) -> User | None:
    """The active user behind a live token, or None. Comparison is constant-time."""
    if not TOKEN_SHAPE.fullmatch(raw_token):
        return None  # not one of ours; never sent to the database (it may hold anything, a NUL included)
    parts = raw_token.removeprefix(TOKEN_PREFIX).split("_", 1)
    token = db.session.scalar(select(ApiToken).where(ApiToken.prefix == parts[0]))
    if token is None or not hmac.compare_digest(token.token_hash, _digest(raw_token)):
        return None
    if token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return token.user
