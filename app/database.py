"""Column types, engine settings and the commit helper shared by every model and service."""
from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime, Engine, Enum, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator

from app.errors import Conflict
from app.extensions import db

CLASH = "This clashed with another change made at the same moment; reload and try again."


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always aware UTC in Python, on SQLite as on PostgreSQL.

    PostgreSQL stores it as timestamptz. SQLite has no time zones, so we store
    naive UTC and re-attach UTC on the way out. Naive values are refused on the
    way in: a naive datetime is a bug waiting for a DST change.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime refuses naive datetimes; use timeutil.utcnow() or an aware value")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def value_enum(cls: type[enum.Enum], name: str, length: int) -> Enum:
    """An enum column stored by value as a VARCHAR of `length` with a CHECK constraint, the same on both databases."""
    return Enum(cls, name=name, values_callable=lambda members: [m.value for m in members], native_enum=False,
                length=length, create_constraint=True)


def commit_or_conflict(message: str = CLASH, field: str | None = None) -> None:
    """Commit; a clash with a change committed at the same moment (a name just taken, a rotation just put in a
    layer, a reorder) becomes a Conflict naming the field, to retry, not a server error. The services check the
    normal case first; this covers two people submitting the same thing at once."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(message, field) from None


def register_engine_listeners() -> None:
    """Called by create_app(); listening once is enough for every engine (and every later app)."""
    if not event.contains(Engine, "connect", _tune_sqlite):
        event.listen(Engine, "connect", _tune_sqlite)


def _tune_sqlite(dbapi_connection, connection_record) -> None:
    """WAL lets readers run beside the one writer; foreign keys are off by default in SQLite."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def render_migration_item(type_: str, obj, autogen_context):
    """Write UTCDateTime into migrations as a plain timestamptz, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
