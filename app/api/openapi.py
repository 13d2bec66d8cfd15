"""The OpenAPI 3 document, built from the routes themselves.

Each API handler carries `@api_doc(...)`; request bodies are described from
the same WTForms class that validates them, so the document cannot drift from
the validation. A route without `@api_doc` is left out of the document, and a
test fails on it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from wtforms import validators as v

from app.forms_common import optional_int

F = TypeVar("F", bound=Callable)

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["error"],
}
FIELD_TYPES = {
    "IntegerField": {"type": "integer"},
    "DecimalField": {"type": "number"},
    "FloatField": {"type": "number"},
    "BooleanField": {"type": "boolean"},
    "DateField": {"type": "string", "format": "date"},
    "InstantField": {"type": "string", "format": "date-time",
                     "description": "ISO 8601 with a UTC offset (Z or +hh:mm); without one: 422"},
    "EmailField": {"type": "string", "format": "email"},
    "TimeField": {"type": "string", "pattern": "^\\d{2}:\\d{2}$"},
}


def api_doc(summary: str, *, request: type | None = None, response: dict[str, Any] | None = None,
            query: dict[str, str] | None = None, status: int = 200, tag: str | None = None,
            request_extra: dict[str, Any] | None = None) -> Callable[[F], F]:
    """Describe an API handler for the OpenAPI document.

    `request_extra` adds JSON-schema properties the body takes beside the fields of `request` (nested lists a
    form cannot describe, validated by the handler itself); they are required except in a PATCH.
    """

    def mark(view: F) -> F:
        view.openapi = {  # type: ignore[attr-defined]
            "summary": summary, "request": request, "response": response or {"type": "object"},
            "query": query or {}, "status": status, "tag": tag, "request_extra": request_extra or {},
        }
        return view

    return mark


def form_schema(form_class: type, partial: bool = False) -> dict[str, Any]:
    """The JSON body `form_class` accepts; with `partial` (PATCH) no field is required."""
    form = form_class(formdata=None, meta={"csrf": False, "api": True})
    properties: dict[str, Any] = {}
    required = []
    for name, field in form._fields.items():
        schema = dict(FIELD_TYPES.get(field.type, {"type": "string"}))
        if field.type == "SelectField" and field.coerce is optional_int:
            schema = {"type": ["integer", "null"]}
        elif field.type in {"SelectField", "RadioField"} and field.choices:
            schema["enum"] = [choice.value for choice in field.choices]
        if field.type == "SelectMultipleField":
            schema = {"type": "array", "items": {"type": "string"}}
        if field.description:
            schema["description"] = "; ".join(filter(None, (str(field.description), schema.get("description"))))
        for validator in field.validators:
            if isinstance(validator, (v.DataRequired, v.InputRequired)):
                required.append(name)
            if isinstance(validator, v.Length) and validator.max and validator.max > 0:
                schema["maxLength"] = validator.max
            if isinstance(validator, v.NumberRange):
                if validator.min is not None:
                    schema["minimum"] = validator.min
                if validator.max is not None:
                    schema["maximum"] = validator.max
        properties[name] = schema
    body: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required and not partial:
        body["required"] = required
    return body


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []

    def replace(match: re.Match) -> str:
        converter, name = match.group(1), match.group(2)
        params.append({"name": name, "in": "path", "required": True,
                       "schema": {"type": "integer" if converter == "int" else "string"}})
        return "{" + name + "}"

    return re.sub(r"<(?:(\w+):)?(\w+)>", replace, rule), params


def build_document(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document for every documented /api/v1 route."""
    paths: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api."):
            continue
        doc = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if doc is None:
            continue
        path, params = _path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] = {
                "operationId": rule.endpoint.removeprefix("api.") + ("" if method in {"GET"} else f"_{method.lower()}"),
                "summary": doc["summary"],
                "tags": [doc["tag"] or rule.rule.split("/")[3]],
                "parameters": params + [
                    {"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
                    for name, text in doc["query"].items()
                ],
                "responses": {
                    str(doc["status"]): {"description": "Success",
                                         "content": {"application/json": {"schema": doc["response"]}}},
                    "default": {"description": "Error",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            }
            if doc["request"] is not None:
                # A PATCH merges the body into the stored record (load_form), so any field may be left out.
                body = form_schema(doc["request"], partial=method == "PATCH")
                if doc.get("request_extra"):
                    body["properties"].update(doc["request_extra"])
                    if method != "PATCH":
                        body["required"] = body.get("required", []) + list(doc["request_extra"])
                operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
            elif doc.get("request_extra"):
                # A body no form describes (a handler that reads alternative shapes): its fields, none required.
                operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": doc["request_extra"]}}}}
            if rule.endpoint != "api.openapi":
                operation["security"] = [{"bearer": []}]
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Quarterdeck API", "version": "1",
                 "description": "Quarter-close readiness and crisis management. "
                                "Authenticate with 'Authorization: Bearer <token>' (create one under Account > API tokens)."},
        "servers": [{"url": app.config["PUBLIC_BASE_URL"]}],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
