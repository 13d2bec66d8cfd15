"""Links by kind and id to another domain's records, read through its tables so that neither domain imports the
other (risks link to apps, jobs and vendors; vendors to apps and jobs).

A target is (table name, page endpoint, its URL parameter). Where the other domain is not installed there is no
table and no page, and these answer None.
"""
from __future__ import annotations

from flask import url_for
from sqlalchemy import Table, func, null, select
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


def find_named(target: Target, *, containing: str = "", named: str = "", within: tuple[str, str] | None = None,
               limit: int = 20) -> list[tuple[int, str, str | None]]:
    """(id, name, name of the record it belongs to) of the target's records whose name contains `containing` or
    equals `named`, ignoring case, by name; at most `limit`. `within` is (parent table, foreign key column), e.g. a
    job's app. Empty when that domain is not installed."""
    table = named_table(target)
    if table is None:
        return []
    parent = db.metadata.tables.get(within[0]) if within and within[1] in table.c else None
    parent_name = parent.c.name if parent is not None else null()
    source = table.outerjoin(parent, parent.c.id == table.c[within[1]]) if parent is not None else table
    statement = select(table.c.id, table.c.name, parent_name).select_from(source)
    if containing:
        statement = statement.where(func.lower(table.c.name).contains(containing.lower(), autoescape=True))
    if named:
        statement = statement.where(func.lower(table.c.name) == named.lower())
    statement = statement.order_by(func.lower(table.c.name), table.c.id).limit(limit)
    return [(row[0], row[1], row[2]) for row in db.session.execute(statement)]


def record_url(target: Target, record_id: int) -> str | None:
    """The record's page, when that domain's pages are installed."""
    _table, endpoint, param = target
    try:
        return url_for(endpoint, **{param: record_id})
    except BuildError:
        return None
