"""People who sign in, and their API tokens."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.models import Audited
from app.auth.roles import ADMINS, Role
from app.database import UTCDateTime, value_enum
from app.extensions import db
from app.timeutil import utcnow

ROLE_ENUM = value_enum(Role, "user_role", 20)


class User(Audited, UserMixin, db.Model):
    __tablename__ = "users"
    __audit_exclude__ = frozenset({"password_hash"})
    __audit_ignore__ = frozenset({"last_login_at", "session_version"})
    __audit_viewers__ = ADMINS
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(ROLE_ENUM)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="SET NULL"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the session cookie's user id: bumping it (password change or reset) signs out every session.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    region = relationship("Region", lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    def audit_label(self) -> str:
        return self.email


class ApiToken(Audited, db.Model):
    """A bearer token for the JSON API. Only a SHA-256 of the secret is stored; it is shown once."""

    __tablename__ = "api_tokens"
    __audit_exclude__ = frozenset({"token_hash"})
    __audit_ignore__ = frozenset({"last_used_at"})
    __audit_viewers__ = ADMINS

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # The public part of the token, used to find the row without scanning hashes.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None

    def audit_label(self) -> str:
        return f"{self.name} ({self.prefix}…)"
