"""The audit trail: one row per created, changed or deleted tracked record."""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, String, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from app.auth.roles import EVERYONE, Role
from app.database import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow


def _keep_old_value(target: object, value: Any, old: Any, initiator: Any) -> None:
    """A no-op "set" listener; registering it with active_history is what matters."""


class Audited:
    """Mixin: every insert, update and delete of this model lands in the audit trail.

    `__audit_exclude__` names fields whose values must never be copied into the
    trail (password hashes, token hashes); a change to them is still recorded,
    with the values masked. `__audit_ignore__` names bookkeeping fields (last
    login, last use) whose changes are not worth a row. `__audit_viewers__`
    says who may read the history.
    """

    __audit_exclude__: ClassVar[frozenset[str]] = frozenset()
    __audit_ignore__: ClassVar[frozenset[str]] = frozenset()
    __audit_viewers__: ClassVar[frozenset[Role]] = EVERYONE

    @classmethod
    def __declare_last__(cls) -> None:
        # Setting a column of an expired object (every object is, after a commit)
        # does not load its old value, so the flush would see no "before" and the
        # trail would record None instead. active_history loads it first.
        for attr in inspect(cls).column_attrs:
            if not event.contains(attr.class_attribute, "set", _keep_old_value):
                event.listen(attr.class_attribute, "set", _keep_old_value, active_history=True, propagate=True)

    def audit_label(self) -> str:
        for attr in ("name", "title", "email"):
            value = getattr(self, attr, None)
            if value:
                return str(value)
        return f"#{getattr(self, 'id', '?')}"


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id", "occurred_at"),
        # The log's order (newest first, the id breaking ties), whole and narrowed to one record type.
        Index("ix_audit_events_occurred_id", "occurred_at", "id"),
        Index("ix_audit_events_type_occurred", "entity_type", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # Kept as text too, so the trail still says who acted after that user is deleted.
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(10))  # create | update | delete
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    entity_label: Mapped[str] = mapped_column(String(200))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
