"""Keyset (seek) pagination for the long lists: a page starts after the last row shown, not at an offset.

An offset makes the database walk and throw away every row before the page, so page 2,000 of the register costs
2,000 pages; a keyset page is found by comparing the sort key, so every page costs the same. The cursor is the
last (or first) row's sort key values, ending with its id so ties in the sort are broken the same way each time.
It is URL-safe base64 of a JSON list; a cursor that does not decode to values of the key's types is ignored and
the first page is shown (a stale or edited link is not an error worth a page of its own).

No exact total is counted: a COUNT over a filtered 100k-row table costs as much as the page itself, so pages say
"Showing N" with Next and Previous links.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, and_, false, or_
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from app.extensions import db
from app.request_guard import database_int

MAX_CURSOR_LENGTH = 2000


class BadCursor(ValueError):
    """A cursor that is not one this list wrote."""


@dataclass(frozen=True)
class SortKey:
    """One expression of an ORDER BY and its direction."""

    expression: Any
    descending: bool


@dataclass
class KeysetPage:
    """One page of a list and the cursors of its neighbours (None where there is no neighbour)."""

    items: list
    next_cursor: str | None = None
    prev_cursor: str | None = None

    @property
    def count(self) -> int:
        return len(self.items)


def sort_keys(order: Sequence[Any]) -> list[SortKey]:
    """The SortKeys of an ORDER BY list written as expressions, `.desc()` and `.asc()` included."""
    keys = []
    for item in order:
        if isinstance(item, UnaryExpression) and item.modifier in (operators.desc_op, operators.asc_op):
            keys.append(SortKey(item.element, item.modifier is operators.desc_op))
        else:
            keys.append(SortKey(item, False))
    return keys


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value") and not isinstance(value, (int, str)):  # an Enum stored by value
        return value.value
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    text = json.dumps([_plain(value) for value in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _python_type(expression: Any) -> type | None:
    for kind in (expression.type, getattr(expression.type, "impl_instance", None)):
        try:
            return kind.python_type if kind is not None else None
        except NotImplementedError:
            continue
    return None


def _typed(value: Any, kind: type | None) -> Any:
    """`value` read back from JSON as a value of the key's type, or BadCursor."""
    if value is None:
        return None
    try:
        if kind is not None and issubclass(kind, datetime):
            return datetime.fromisoformat(value)
        if kind is not None and issubclass(kind, date):
            return date.fromisoformat(value)
        if kind is not None and issubclass(kind, Decimal):
            number = Decimal(value)
            if not number.is_finite():
                raise BadCursor("not a finite number")
            return number
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise BadCursor("not a number")
            return float(value)
        if kind is int or (kind is None and isinstance(value, int)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise BadCursor("not an integer")
            return database_int(value)
    except (TypeError, ValueError, InvalidOperation) as error:
        raise BadCursor(str(error)) from None
    if not isinstance(value, str):
        raise BadCursor("not text")
    if "\x00" in value:
        raise BadCursor("NUL in text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadCursor("not UTF-8") from None
    if kind is not None and not issubclass(kind, str):
        try:  # an Enum column: the cursor holds its value
            return kind(value)
        except (TypeError, ValueError):
            raise BadCursor("not one of the column's values") from None
    return value


def decode_cursor(cursor: str, keys: Sequence[SortKey]) -> list[Any]:
    """The sort key values a cursor holds, typed like the keys; BadCursor when it is not one of ours."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadCursor("too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeError, RecursionError):
        raise BadCursor("not a cursor") from None
    if not isinstance(values, list) or len(values) != len(keys):
        raise BadCursor("not this list's cursor")
    return [_typed(value, _python_type(key.expression)) for value, key in zip(values, keys)]


def _beyond(keys: Sequence[SortKey], values: Sequence[Any], *, backwards: bool):
    """Rows strictly after (or before, `backwards`) the row whose sort key is `values`, in the keys' order.

    (k1 beyond v1) OR (k1 = v1 AND k2 beyond v2) OR ...; a NULL value has nothing beyond it within its own
    group, because every nullable key here is preceded by an "is null" flag that keeps NULLs together."""
    alternatives = []
    equal_so_far: list[Any] = []
    for key, value in zip(keys, values):
        later = key.descending == backwards  # ascending and forwards, or descending and backwards
        if value is not None:
            step = key.expression > value if later else key.expression < value
            alternatives.append(and_(*equal_so_far, step))
            equal_so_far.append(key.expression == value)
        else:
            equal_so_far.append(key.expression.is_(None))
    if not alternatives:
        return false()
    first, first_value = keys[0], values[0]
    if first_value is None:
        return or_(*alternatives)
    # The first key's bound on its own lets the database use an index on it for a range scan.
    later = first.descending == backwards
    bound = first.expression >= first_value if later else first.expression <= first_value
    return and_(bound, or_(*alternatives))


def keyset_page(query: Select, order: Sequence[Any], *, after: str | None = None, before: str | None = None,
                per_page: int = 50) -> KeysetPage:
    """One page of `query` (without its ORDER BY) in `order`, after the cursor `after` or before `before`.

    Two statements at most whatever the data size: the page (one row more than shown, to know whether there is
    a next one) and whatever loader options the query carries."""
    keys = sort_keys(order)
    backwards = False
    anchor = None
    for cursor, is_before in ((after, False), (before, True)):
        if cursor:
            try:
                anchor = decode_cursor(cursor, keys)
            except BadCursor:
                continue
            backwards = is_before
            break
    labelled = [key.expression.label(f"keyset_{index}") for index, key in enumerate(keys)]
    page = query.add_columns(*labelled)
    if anchor is not None:
        page = page.where(_beyond(keys, anchor, backwards=backwards))
    directions = [key.expression.desc() if key.descending != backwards else key.expression.asc() for key in keys]
    rows = db.session.execute(page.order_by(*directions).limit(per_page + 1)).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
    items = [row[0] for row in rows]
    first = encode_cursor(rows[0][1:]) if rows else None
    last = encode_cursor(rows[-1][1:]) if rows else None
    if backwards:
        return KeysetPage(items, next_cursor=last, prev_cursor=first if more else None)
    return KeysetPage(items, next_cursor=last if more else None, prev_cursor=first if anchor is not None else None)

