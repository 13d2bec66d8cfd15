"""The one shared mechanism that writes the audit trail.

A SQLAlchemy after_flush hook looks at every new, changed and deleted object
that carries the Audited mixin and inserts its audit rows in the same
transaction, so a change and its trail commit or roll back together and no
view or service has to remember to log anything.
"""
from __future__ import annotations

import contextvars
import decimal
import enum
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event, inspect, insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import NO_VALUE

from app.audit.models import Audited, AuditEvent
from app.timeutil import utcnow

MASK = "(hidden)"
_system_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_system_actor", default=None)


@contextmanager
def acting_as(label: str):
    """Attribute changes made outside a web request (CLI, scheduler) to a named system actor."""
    token = _system_actor.set(label)
    try:
        yield
    finally:
        _system_actor.reset(token)


def _actor() -> tuple[int | None, str]:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.email
    return None, _system_actor.get() or "system"


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a column value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (list, dict)):
        return value
    return str(value)


def _column_keys(obj: Audited) -> list[str]:
    return [attr.key for attr in inspect(type(obj)).column_attrs]


def _shown(obj: Audited, key: str, value: Any) -> Any:
    return MASK if key in obj.__audit_exclude__ and value is not None else _plain(value)


def _created(obj: Audited) -> dict[str, list[Any]]:
    return {key: [None, _shown(obj, key, getattr(obj, key))] for key in _column_keys(obj)
            if getattr(obj, key) is not None}


def _deleted(obj: Audited) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes = {}
    for key in _column_keys(obj):
        value = state.attrs[key].loaded_value
        if value is not NO_VALUE and value is not None:
            changes[key] = [_shown(obj, key, value), None]
    return changes


def _updated(obj: Audited) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes = {}
    for key in _column_keys(obj):
        if key in obj.__audit_ignore__:
            continue
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        if before == after:
            continue
        changes[key] = [_shown(obj, key, before), _shown(obj, key, after)]
    return changes


def _identity(obj: Audited) -> str:
    # SQLAlchemy gives a row inserted by this flush its identity key only after
    # after_flush has run, so read the primary key from the object itself.
    state = inspect(obj)
    key = state.identity or state.mapper.primary_key_from_instance(obj)
    return ",".join(str(part) for part in key)


def register_listeners() -> None:
    """Called by create_app(): every Session's flush writes its audit rows (listening once covers every app)."""
    if not event.contains(Session, "after_flush", _record_audit_events):
        event.listen(Session, "after_flush", _record_audit_events)


def _record_audit_events(session: Session, flush_context) -> None:
    rows = []
    for action, objects, describe in (
        ("create", session.new, _created),
        ("update", session.dirty, _updated),
        ("delete", session.deleted, _deleted),
    ):
        for obj in objects:
            if not isinstance(obj, Audited):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = describe(obj)
            if action == "update" and not changes:
                continue
            rows.append({"action": action, "obj": obj, "changes": changes})
    if not rows:
        return
    actor_id, actor_label = _actor()
    now = utcnow()
    session.connection().execute(insert(AuditEvent.__table__), [
        {
            "occurred_at": now,
            "actor_id": actor_id,
            "actor_label": actor_label[:200],
            "action": row["action"],
            "entity_type": row["obj"].__tablename__,
            "entity_id": _identity(row["obj"]),
            "entity_label": row["obj"].audit_label()[:200],
            "changes": row["changes"],
        }
        for row in rows
    ])
