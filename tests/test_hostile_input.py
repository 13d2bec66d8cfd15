"""Hostile input at the door (app/request_guard.py): ids beyond the database, NUL and lone surrogates, deep JSON
and bodies over the limit get 4xx naming the problem, on both databases, signed in or not."""
from __future__ import annotations

import io
import json

import pytest

from app.auth.roles import Role
from app.forms_common import IntegerField, optional_int
from app.request_guard import DB_INT_MAX, json_depth
from tests.conftest import csrf_token_from

HUGE = ["2147483648", "9223372036854775808", "1" + "0" * 30]


@pytest.mark.parametrize("huge", HUGE)
def test_an_id_beyond_the_database_range_is_not_found_in_pages_and_the_api(login_as, api_as, huge):
    page, api = login_as(Role.ADMIN), api_as(Role.ADMIN)

    assert page.get(f"/risks/{huge}").status_code == 404
    assert api.get(f"/api/v1/risks/{huge}").status_code == 404
    assert api.delete(f"/api/v1/tokens/{huge}").status_code == 404
    assert page.get(f"/risks/{DB_INT_MAX}").status_code == 404  # the largest id is simply unknown


@pytest.mark.parametrize("huge", HUGE)
def test_a_query_integer_beyond_the_range_is_ignored_like_any_non_number(login_as, api_as, huge):
    assert login_as(Role.ADMIN).get(f"/risks?owner_id={huge}&likelihood={huge}").status_code == 200
    assert api_as(Role.ADMIN).get(f"/api/v1/watchlist/jobs?app_id={huge}&owner_id={huge}").status_code == 200


def test_a_form_integer_beyond_the_range_is_a_form_error_not_a_database_error():
    class Form:
        pass

    field = IntegerField().bind(form=None, name="n", _meta=type("Meta", (), {"locales": False,
                                                                            "get_translations": lambda *a: None})())
    with pytest.raises(ValueError, match="between"):
        field.process_formdata([HUGE[1]])
    assert field.data is None
    with pytest.raises(ValueError):
        optional_int(HUGE[0])
    assert optional_int(str(DB_INT_MAX)) == DB_INT_MAX


def test_a_nul_in_a_filter_is_refused_with_422_naming_the_field(login_as, api_as):
    page = login_as(Role.CRISIS_TEAM)
    response = page.get("/risks?q=a%00b")
    assert response.status_code == 422 and "q contains a NUL character" in response.get_data(as_text=True)

    answer = api_as(Role.CRISIS_TEAM).get("/api/v1/vendors?q=a%00b")
    assert answer.status_code == 422 and answer.get_json()["fields"] == {
        "q": "q contains a NUL character, which is not allowed."}


def test_a_nul_in_the_sign_in_email_is_refused_without_signing_in(app, client):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": "a\x00b@example.com", "password": "x", "csrf_token": token})
    assert response.status_code == 422 and "email" in response.get_data(as_text=True)


def test_a_badge_key_with_a_nul_is_not_found(client):
    assert client.get("/badge/a%00b.svg").status_code == 404


def test_a_lone_surrogate_in_json_is_refused_naming_its_path(api_as):
    api = api_as(Role.ADMIN)
    body = '{"summary": "ok", "details": {"lines": ["fine", "bad \\ud800"]}}'
    response = api.post("/api/v1/alerts", data=body, content_type="application/json")
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["details.lines[1]"]
    assert "unpaired surrogate" in response.get_json()["error"]


def test_json_nested_deeper_than_the_bound_is_a_400(api_as):
    response = api_as(Role.ADMIN).post("/api/v1/tokens", data="[" * 5000 + "]" * 5000,
                                       content_type="application/json")
    assert response.status_code == 400 and "nested deeper" in response.get_json()["error"]


def test_json_depth_skips_brackets_inside_strings():
    assert json_depth('{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert json_depth('"\\"[["') == 0


class CountingStream(io.BytesIO):
    """A request body that records how much of it the app read."""

    read_bytes = 0

    def read(self, size=-1):
        data = super().read(size)
        self.read_bytes += len(data)
        return data

    def readline(self, size=-1):
        data = super().readline(size)
        self.read_bytes += len(data)
        return data


@pytest.mark.config(REQUEST_MAX_KB=64)
def test_a_body_over_the_limit_is_refused_while_it_is_read_in_the_clients_format(app, api_as, login_as):
    api = api_as(Role.ADMIN)
    stream = CountingStream(b"[" + b" " * (20 * 1024 * 1024) + b"]")  # 20 MB
    response = api.client.post("/api/v1/alerts", input_stream=stream, content_type="application/json",
                               headers={"Authorization": f"Bearer {api.token}"})
    assert response.status_code == 413 and response.is_json
    assert stream.read_bytes < 1024 * 1024  # refused at the limit, not after reading 20 MB

    ping = app.test_client().post("/ping/00000000-0000-0000-0000-000000000000", data=b"x" * 200_000)
    assert ping.status_code == 413 and ping.is_json and ping.get_json()["error"]

    page = login_as(Role.CRISIS_TEAM).post("/risks/new", data={"title": "x" * 200_000})
    assert page.status_code == 413 and page.mimetype == "text/html"


def test_a_json_body_with_hostile_values_writes_nothing(api_as):
    api = api_as(Role.ADMIN)
    before = api.get("/api/v1/tokens").get_json()
    response = api.post("/api/v1/tokens", data=json.dumps({"name": "x\x00y"}), content_type="application/json")
    assert response.status_code == 422 and list(response.get_json()["fields"]) == ["name"]
    assert api.get("/api/v1/tokens").get_json() == before
