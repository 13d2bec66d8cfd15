"""The OpenAPI document: public, OpenAPI 3, and complete for every /api/v1 route."""
from __future__ import annotations

import re

import pytest
from flask import jsonify

from app.access import public
from app.api.openapi import build_document
from app.auth.roles import Role

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def api_operations(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every rule under /api/v1 that the app actually serves."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        operations |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return operations


def documented_operations(document: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item if method in HTTP_METHODS}


def undocumented_operations(app) -> set[tuple[str, str]]:
    """The coverage check: what the app serves under /api/v1 that its document leaves out."""
    return api_operations(app) - documented_operations(build_document(app))


def all_operations(document: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, operation) for path, item in document["paths"].items()
            for method, operation in item.items() if method in HTTP_METHODS]


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def test_the_document_is_public_and_openapi_3(client):
    response = client.get("/api/v1/openapi.json")  # no token

    assert response.status_code == 200
    assert response.is_json
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


def test_the_document_describes_every_api_route_and_method(app, document):
    served = api_operations(app)

    assert ("/api/v1/regions/{region_id}", "patch") in served  # the url_map really was read
    assert documented_operations(document) == served


@pytest.mark.fresh_app  # adds a route to the app
def test_a_route_added_without_api_doc_is_caught_by_the_coverage_check(app):
    @public
    def undocumented():
        return jsonify({})

    app.add_url_rule("/api/v1/undocumented", "api.undocumented", undocumented)

    assert ("/api/v1/undocumented", "get") not in documented_operations(build_document(app))
    assert undocumented_operations(app) == {("/api/v1/undocumented", "get")}


def test_every_operation_has_a_unique_operation_id(document):
    ids = [operation.get("operationId") for _path, _method, operation in all_operations(document)]

    assert all(ids)
    assert len(ids) == len(set(ids))


def test_every_path_parameter_is_declared(document):
    for path, _method, operation in all_operations(document):
        declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), path


def test_every_operation_but_the_document_itself_needs_a_bearer_token(document):
    for path, _method, operation in all_operations(document):
        if path == "/api/v1/openapi.json":
            assert "security" not in operation
        else:
            assert operation["security"] == [{"bearer": []}], path


def body_schema(document: dict, path: str, method: str) -> dict:
    return document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def test_the_region_body_comes_from_the_region_form(document):
    schema = body_schema(document, "/api/v1/regions", "post")

    assert set(schema["required"]) == {"name", "time_zone", "business_start", "business_end"}
    assert set(schema["properties"]) == {"name", "time_zone", "business_start", "business_end",
                                         "holiday_country", "holiday_subdivision"}
    assert schema["additionalProperties"] is False  # unknown fields are refused (422)
    assert schema["properties"]["name"]["maxLength"] == 40
    assert schema["properties"]["business_start"]["pattern"] == r"^\d{2}:\d{2}$"


@pytest.mark.parametrize("path, method", [("/api/v1/users", "post"), ("/api/v1/users/{user_id}", "patch")])
def test_the_user_role_is_an_enum_of_the_roles(document, path, method):
    role = body_schema(document, path, method)["properties"]["role"]

    assert role["enum"] == [r.value for r in Role]


@pytest.mark.parametrize("path", ["/api/v1/regions/{region_id}", "/api/v1/users/{user_id}"])
def test_a_patch_body_requires_no_field(document, path):
    # A PATCH keeps the stored value of every field left out (see tests/calendar/test_api.py).
    schema = body_schema(document, path, "patch")

    assert "required" not in schema
    assert schema["properties"]


def test_reads_and_deletes_take_no_body(document):
    for path, method, operation in all_operations(document):
        if method in {"get", "delete"}:
            assert "requestBody" not in operation, (path, method)


def test_a_create_documents_201(document):
    assert "201" in document["paths"]["/api/v1/regions"]["post"]["responses"]
    assert "200" in document["paths"]["/api/v1/regions"]["get"]["responses"]


# --- a document that tells the truth ------------------------------------------------------------------------

def test_the_document_does_not_depend_on_the_data_so_it_lists_no_database_ids(app, make_user):
    from datetime import date, time

    from app.oncall import rotations

    empty = build_document(app)
    owner = make_user(Role.RESPONDER)
    rotations.create_rotation(name="Ops", time_zone="UTC", start_date=date(2026, 1, 5), start_time=time(9),
                              handoff_kind="weekly", shift_length=1, member_ids=[owner.id])

    assert build_document(app) == empty


@pytest.mark.parametrize("path, method, field", [
    ("/api/v1/schedules/{schedule_id}/layers", "post", "rotation_id"),
    ("/api/v1/schedules/{schedule_id}/overrides", "post", "user_id"),
])
def test_an_id_field_is_an_integer_in_the_database_range_without_an_enum(document, path, method, field):
    schema = body_schema(document, path, method)["properties"][field]
    assert "enum" not in schema and "integer" in schema["type"] and schema["maximum"] == 2 ** 31 - 1


def test_risk_scores_are_integers_from_one_to_five(document):
    schema = body_schema(document, "/api/v1/risks", "post")["properties"]["likelihood"]
    assert schema["type"] == "integer" and schema["enum"] == [1, 2, 3, 4, 5]


def test_building_the_weekly_review_documents_both_answers(document):
    assert {"200", "201"} <= set(document["paths"]["/api/v1/reviews"]["post"]["responses"])


def test_every_operation_lists_the_errors_the_app_answers_and_no_catch_all(document):
    for path, method, operation in all_operations(document):
        responses = operation["responses"]
        assert "default" not in responses, (path, method)
        assert {"404", "413", "422"} <= set(responses), (path, method)
        if path != "/api/v1/openapi.json":
            assert {"401", "403"} <= set(responses), (path, method)
        if method in {"post", "patch", "put"}:
            assert "400" in responses, (path, method)


def test_path_ids_are_integers_the_database_can_hold(document):
    schema = document["paths"]["/api/v1/risks/{risk_id}"]["get"]["parameters"][0]["schema"]
    assert schema == {"type": "integer", "minimum": 0, "maximum": 2 ** 31 - 1}
