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
from app.request_guard import DB_INT_MAX, DB_INT_MIN, database_int

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


# What every operation may answer besides its success, and why. The body of each is the Error schema.
ERROR_STATUSES = {
    "400": "A query parameter cannot be read, or the body is not a JSON object or is nested too deeply",
    "401": "No valid bearer token",
    "403": "The token's role may not do this",
    "404": "No such record (also for an id outside the database's integer range)",
    "409": "The record's state or another record conflicts with the request",
    "405": "Not at this address: a path segment that is not a valid id can name another resource",
    "413": "The request body is larger than the limit",
    "422": "A field is invalid, unknown, or holds a NUL character or an unpaired surrogate; `fields` names it",
}
ERRORS_WITHOUT_BODY = ("400", "401", "403", "404", "405", "409", "413", "422")


def api_doc(summary: str, *, request: type | None = None, response: dict[str, Any] | None = None,
            query: dict[str, str] | None = None, status: int = 200, tag: str | None = None,
            request_extra: dict[str, Any] | None = None,
            also: dict[int, tuple[str, dict[str, Any] | None]] | None = None) -> Callable[[F], F]:
    """Describe an API handler for the OpenAPI document.

    `request_extra` adds JSON-schema properties the body takes beside the fields of `request` (nested lists a
    form cannot describe, validated by the handler itself); they are required except in a PATCH. `also` lists
    other statuses the handler answers itself, with their description and body schema (None: the success one).
    """

    def mark(view: F) -> F:
        view.openapi = {  # type: ignore[attr-defined]
            "summary": summary, "request": request, "response": response or {"type": "object"},
            "query": query or {}, "status": status, "tag": tag, "request_extra": request_extra or {},
            "also": also or {},
        }
        return view

    return mark


def _declared_choices(form_class: type, name: str) -> list | None:
    """The choices written in the form class itself; None when they are filled from the database at run time."""
    for klass in form_class.__mro__:
        unbound = vars(klass).get(name)
        if unbound is not None and hasattr(unbound, "kwargs"):
            choices = unbound.kwargs.get("choices")
            return list(choices) if choices else None
    return None


def _choice_value(choice: Any) -> Any:
    return choice.value if hasattr(choice, "value") else choice[0] if isinstance(choice, tuple) else choice


def _integer_schema(validators: list) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": DB_INT_MIN, "maximum": DB_INT_MAX}
    for validator in validators:
        if isinstance(validator, v.NumberRange):
            if validator.min is not None:
                schema["minimum"] = validator.min
            if validator.max is not None:
                schema["maximum"] = validator.max
    return schema


def _choice_schema(form_class: type, name: str, field: Any) -> dict[str, Any]:
    """A select: integers or strings, an enum only of choices written in the code (never database ids)."""
    integer = field.coerce in (int, database_int, optional_int)
    declared = _declared_choices(form_class, name)
    values = [_choice_value(choice) for choice in declared or []]
    values = [value for value in values if value not in ("", None)]
    if integer:
        item: dict[str, Any] = {"type": "integer"}
        if values:
            item["enum"] = [int(value) for value in values]
        else:
            item.update(minimum=1, maximum=DB_INT_MAX)
    else:
        item = {"type": "string"}
        if values:
            item["enum"] = [str(value) for value in values]
    if field.type == "SelectMultipleField":
        return {"type": "array", "items": item}
    if field.coerce is optional_int:
        return {"anyOf": [item, {"type": "null"}]} if "enum" in item else {**item, "type": ["integer", "null"]}
    return item


def form_schema(form_class: type, partial: bool = False) -> dict[str, Any]:
    """The JSON body `form_class` accepts; with `partial` (PATCH) no field is required."""
    form = form_class(formdata=None, meta={"csrf": False, "api": True})
    properties: dict[str, Any] = {}
    required = []
    for name, field in form._fields.items():
        if name == "csrf_token":
            continue
        schema = dict(FIELD_TYPES.get(field.type, {"type": "string"}))
        if field.type in {"SelectField", "RadioField", "SelectMultipleField"}:
            schema = _choice_schema(form_class, name, field)
        elif field.type == "IntegerField":
            schema = _integer_schema(field.validators)
        if field.description:
            schema["description"] = "; ".join(filter(None, (str(field.description), schema.get("description"))))
        for validator in field.validators:
            if isinstance(validator, (v.DataRequired, v.InputRequired)):
                required.append(name)
            if isinstance(validator, v.Length) and schema.get("type") == "string":
                if validator.max and validator.max > 0:
                    schema["maxLength"] = validator.max
                if validator.min and validator.min > 0:
                    schema["minLength"] = validator.min
            if isinstance(validator, v.NumberRange) and field.type != "IntegerField":
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
        schema = {"type": "integer", "minimum": 0, "maximum": DB_INT_MAX} if converter == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return re.sub(r"<(?:(\w+):)?(\w+)>", replace, rule), params


def _responses(doc: dict[str, Any], method: str, secured: bool) -> dict[str, Any]:
    """The success status, the handler's other answers, and every error the app can give on this route."""
    def body(schema: dict[str, Any]) -> dict[str, Any]:
        return {"application/json": {"schema": schema}}

    error = body({"$ref": "#/components/schemas/Error"})
    statuses = ERROR_STATUSES if method in {"POST", "PATCH", "PUT"} else {
        code: text for code, text in ERROR_STATUSES.items() if code in ERRORS_WITHOUT_BODY}
    responses = {code: {"description": text, "content": error} for code, text in statuses.items()
                 if secured or code not in {"401", "403"}}
    responses[str(doc["status"])] = {"description": "Success", "content": body(doc["response"])}
    for code, (text, schema) in doc["also"].items():
        responses[str(code)] = {"description": text, "content": body(schema or doc["response"])}
    return dict(sorted(responses.items()))


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
                "responses": _responses(doc, method, secured=rule.endpoint != "api.openapi"),
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
