"""Helpers every API handler uses: JSON input through the same WTForms as the HTML views, and JSON errors."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import jsonify, request
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Field

from app.errors import DomainError

F = TypeVar("F", bound=Callable)
FormT = TypeVar("FormT", bound=FlaskForm)


class ApiError(Exception):
    """An error answered as {"error": ..., "fields": {...}} with an HTTP status."""

    def __init__(self, status: int, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or {}


def error_response(status: int, message: str, fields: dict[str, str] | None = None):
    body: dict[str, Any] = {"error": message}
    if fields:
        body["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    return response


def _first_errors(errors: dict[str, list[Any]]) -> dict[str, str]:
    out = {}
    for name, messages in errors.items():
        first = messages[0] if messages else "Invalid value."
        out[name] = first if isinstance(first, str) else str(first)
    return out


def _as_formdata(payload: dict[str, Any]) -> MultiDict:
    pairs: list[tuple[str, Any]] = []
    for key, value in payload.items():
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, bool):
                pairs.append((key, "y" if item else "false"))
            elif isinstance(item, (int, float, str)):
                pairs.append((key, str(item)))
            else:
                raise ApiError(422, "Invalid input.", {key: "Must be a string, number, boolean or a list of them."})
    return MultiDict(pairs)


def _submitted_value(field: Field) -> Any:
    """A field's current value the way a client would send it, for PATCH to keep what it leaves out."""
    if field.type == "BooleanField":
        return bool(field.data)
    if hasattr(field, "_value"):
        return field._value()
    # Select fields have no _value(); their data is already the coerced choice (or a list of them).
    if isinstance(field.data, (list, tuple)):
        return [str(item) for item in field.data]
    return str(field.data)


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong with it."""
    if not request.is_json:
        raise ApiError(400, "Send a JSON object with 'Content-Type: application/json'.")
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return payload


def load_form(form_class: type[FormT], obj: Any = None, partial: bool = False) -> FormT:
    """Validate the JSON body with `form_class`; raise a 422 naming each bad or unknown field.

    With `partial` (PATCH), fields missing from the body keep the values of `obj`.
    """
    payload = json_body()
    # meta api=True: fields that read a person's input differently from a client's (InstantField) can tell.
    meta = {"csrf": False, "api": True}
    known = set(form_class(formdata=None, meta=meta)._fields)
    unknown = sorted(set(payload) - known)
    if unknown:
        raise ApiError(422, "Unknown fields in the request.", {name: "Unknown field." for name in unknown})
    merged: dict[str, Any] = {}
    if partial and obj is not None:
        current = form_class(formdata=None, obj=obj, meta=meta)
        for name, field in current._fields.items():
            if field.data is not None:
                merged[name] = _submitted_value(field)
    merged.update(payload)
    form = form_class(formdata=_as_formdata(merged), meta=meta)
    if not form.validate():
        raise ApiError(422, "Some fields are invalid.", _first_errors(form.errors))
    return form


def handle_api_errors(app_or_bp) -> None:
    """Register JSON error handlers for every error an API handler can meet."""

    @app_or_bp.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status, error.message, error.fields)

    @app_or_bp.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        fields = {error.field: error.message} if error.field else None
        return error_response(error.status, error.message, fields)
