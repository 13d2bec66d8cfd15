"""Hostile input stops at the door: one place for what every route would otherwise have to check itself.

- Integer ids in the URL beyond the database's integer range match no route (404), on SQLite and PostgreSQL.
- `request.args.get(name, type=int)` and `request.form.get(..., type=int)` treat such a number as no number.
- Text with a NUL character or a lone surrogate, in the query string, a form or a JSON body, is refused with
  Invalid (422) naming the field; in the URL path it is a 404 (no record has such a key).
- JSON nested deeper than MAX_JSON_DEPTH is a 400, found by a scan before the parser recurses.
- Bodies are limited while they are read: REQUEST_MAX_KB, or a view's own `@body_limit(...)` (an upload).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import Flask, Request, abort, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from app.errors import Invalid

# Primary keys and integer columns are 32-bit on PostgreSQL; SQLite stores 64 bits. The smaller range is the
# database's range for every backend, so an id means the same thing (and the same 404) on both.
DB_INT_MIN, DB_INT_MAX = -(2 ** 31), 2 ** 31 - 1
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_FORBIDDEN_TEXT = re.compile("[\x00\ud800-\udfff]")
F = TypeVar("F", bound=Callable)


class DatabaseIntConverter(IntegerConverter):
    """`<int:...>` that matches only ids the database can hold; a bigger one is a 404 like any unknown id."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,  # noqa: A002
                 signed: bool = False):
        super().__init__(map, fixed_digits=fixed_digits, min=DB_INT_MIN if min is None else min,
                         max=DB_INT_MAX if max is None else max, signed=signed)


def database_int(value: Any) -> int:
    """int(value), refusing (ValueError) a number the database's integer columns cannot hold."""
    number = int(value)
    if not DB_INT_MIN <= number <= DB_INT_MAX:
        raise ValueError(f"{value!r} is out of range")
    return number


class BoundedArgs(ImmutableMultiDict):
    """Query and form values whose `get(..., type=int)` treats an out-of-range number like a non-number."""

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        return super().get(key, default, database_int if type is int else type)


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in `text`, counted without parsing (strings are skipped)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class JsonTooDeep(ValueError):
    pass


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents nested deeper than MAX_JSON_DEPTH before the parser recurses into them."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s.decode("utf-8", "replace") if isinstance(s, (bytes, bytearray)) else s
        if json_depth(text) > MAX_JSON_DEPTH:
            raise JsonTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels is refused.")
        return json.loads(s, **kwargs)


class GuardedRequest(Request):
    parameter_storage_class = BoundedArgs

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        """The body limit of this request's endpoint, enforced by werkzeug while the body is read."""
        if self._max_content_length is not None or not current_app:
            return self._max_content_length
        view = current_app.view_functions.get(self.endpoint or "")
        limit = getattr(view, "body_limit", None)
        return limit() if callable(limit) else current_app.config["REQUEST_MAX_KB"] * 1024

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def on_json_loading_failed(self, e: ValueError | None):
        if isinstance(e, JsonTooDeep):
            raise BadRequest(str(e))
        return super().on_json_loading_failed(e)


def body_limit(limit: Callable[[], int]) -> Callable[[F], F]:
    """Give a view its own body limit in bytes (e.g. an upload bigger than REQUEST_MAX_KB)."""

    def mark(view: F) -> F:
        view.body_limit = limit  # type: ignore[attr-defined]
        return view

    return mark


def _json_texts(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, text) of every key and string in a JSON document, e.g. ('steps[0].targets', ...)."""
    if isinstance(value, str):
        yield path or "body", value
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            yield name, str(key)
            yield from _json_texts(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_texts(item, f"{path}[{index}]")


def _describe(text: str) -> str:
    return "a NUL character" if "\x00" in text else "an unpaired surrogate (not valid Unicode)"


def _bad_text_fields() -> Iterator[tuple[str, str]]:
    for source in (request.args, request.form if request.mimetype in {
            "application/x-www-form-urlencoded", "multipart/form-data"} else ImmutableMultiDict()):
        for name, values in source.lists():
            for text in [name, *values]:
                if _FORBIDDEN_TEXT.search(text):
                    yield _printable(name), text
    if request.is_json and request.content_length != 0:
        payload = request.get_json(silent=True)
        for name, text in _json_texts(payload):
            if _FORBIDDEN_TEXT.search(text):
                yield _printable(name), text


def _printable(name: str) -> str:
    return _FORBIDDEN_TEXT.sub("\N{REPLACEMENT CHARACTER}", name)[:80]


def refuse_hostile_text() -> None:
    """before_request: 404 for a NUL or surrogate in the path, 400 for too deep JSON, 422 (Invalid, naming the
    field) for a NUL or surrogate in the query, a form or a JSON body."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and _FORBIDDEN_TEXT.search(value):
            abort(404)
    if request.is_json and request.content_length != 0:
        try:
            request.get_json(silent=False)
        except BadRequest as error:
            if isinstance(error.__context__, JsonTooDeep) or "nested deeper" in str(error.description):
                raise
    for name, text in _bad_text_fields():
        raise Invalid(f"{name} contains {_describe(text)}, which is not allowed.", name)


def init_app(app: Flask) -> None:
    """Install the converter, the request class and the JSON provider; call before registering blueprints."""
    app.url_map.converters["int"] = DatabaseIntConverter
    app.request_class = GuardedRequest
    app.json_provider_class = BoundedJSONProvider
    app.json = BoundedJSONProvider(app)
