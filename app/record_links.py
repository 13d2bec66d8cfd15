"""Links by kind and id to another domain's records, read through its tables so that neither domain imports the
other (risks link to apps, jobs and vendors; vendors to apps and jobs).

A target is (table name, page endpoint, its URL parameter). Where the other domain is not installed there is no
table and no page, and these answer None.
"""
from __future__ import annotations

from flask import url_for
from sqlalchemy import Table, select
from werkzeug.routing import BuildError

from app.extensions import db

Target = tuple[str, str, str]


def named_table(target: Target) -> Table | None:
    """The target's table, when it exists and its records have a name."""
    table = db.metadata.tables.get(target[0])
    return table if table is not None and "name" in table.c else None


def record_name(target: Target, record_id: int) -> str | None:
    table = named_table(target)
    return None if table is None else db.session.scalar(select(table.c.name).where(table.c.id == record_id))


def named_records(target: Target, limit: int = 1000) -> list[tuple[int, str]]:
    """(id, name) of the target's records by name, for a picker; empty when that domain is not installed."""
    table = named_table(target)
    if table is None:
        return []
    return [(row.id, row.name) for row in db.session.execute(select(table.c.id, table.c.name)
                                                                .order_by(table.c.name, table.c.id).limit(limit))]


def record_url(target: Target, record_id: int) -> str | None:
    """The record's page, when that domain's pages are installed."""
    _table, endpoint, param = target
    try:
        return url_for(endpoint, **{param: record_id})
    except BuildError:
        return None
