"""Error pages: friendly HTML inside the layout for pages, JSON under /api/, never a traceback."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from app import create_app
from config import ConfigError
from app.access import public
from app.extensions import db
from tests import support
from tests.conftest import log_in

LAYOUT_MARKERS = ('class="topbar"', "quarterdeck.css", "<main")


def assert_friendly_page(response, status: int, wording: str) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    for marker in LAYOUT_MARKERS:
        assert marker in html, f"error page lacks the layout ({marker})"
    assert wording in html
    assert "Traceback" not in html
    return html


def _explode():
    raise RuntimeError("secret internals: password=hunter2")


def _break_the_database():
    db.session.execute(text("SELECT * FROM no_such_table"))
    return "unreachable"


@pytest.fixture
def exploding_app(app):
    """The app with public routes that raise, as a bug in a view would."""
    app.add_url_rule("/explode", "explode", public(_explode))
    app.add_url_rule("/api/v1/explode", "api_explode", public(_explode))
    app.add_url_rule("/broken-query", "broken_query", public(_break_the_database))
    return app


def test_an_unknown_page_is_a_friendly_404_in_the_layout(client):
    assert_friendly_page(client.get("/no/such/page"), 404, "Nothing here.")


def test_an_unknown_page_is_404_for_a_signed_in_user_too(login_as):
    client = login_as("responder")
    html = assert_friendly_page(client.get("/no/such/page"), 404, "Nothing here.")
    assert "Sign out" in html


def test_an_unknown_api_path_answers_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"]


@pytest.mark.fresh_app  # adds routes to the app
def test_a_crashing_page_shows_something_broke_not_a_traceback(exploding_app, caplog):
    client = exploding_app.test_client()
    with caplog.at_level(logging.ERROR, logger="quarterdeck.web"):
        response = client.get("/explode")
    html = assert_friendly_page(response, 500, "Something broke")
    assert "hunter2" not in html and "RuntimeError" not in html
    logged = [record for record in caplog.records if record.name == "quarterdeck.web"]
    assert logged and logged[0].exc_info is not None, "the crash must be logged with its traceback"


@pytest.mark.fresh_app  # adds routes to the app
def test_a_crashing_api_call_answers_json_500(exploding_app):
    response = exploding_app.test_client().get("/api/v1/explode")
    assert response.status_code == 500
    assert response.is_json
    body = response.get_json()
    assert body["error"].startswith("Something broke")
    assert "hunter2" not in response.get_data(as_text=True)


@pytest.mark.fresh_app  # adds routes to the app
def test_a_failed_query_is_rolled_back_so_the_next_request_works(exploding_app):
    client = exploding_app.test_client()
    assert_friendly_page(client.get("/broken-query"), 500, "Something broke")
    assert client.get("/healthz").get_json()["database"]["ok"] is True


@pytest.mark.fresh_app  # adds routes to the app
def test_a_crash_for_a_signed_in_user_keeps_their_navigation(exploding_app, make_user):
    user = make_user("crisis_team")
    client = exploding_app.test_client()
    assert log_in(client, user.email).status_code == 302
    html = assert_friendly_page(client.get("/broken-query"), 500, "Something broke")
    assert user.name in html


def test_a_wrong_method_on_a_page_is_a_friendly_405_naming_the_allowed_ones(login_as):
    client = login_as("executive")
    response = client.get("/logout")
    assert_friendly_page(response, 405, "That method is not allowed here.")
    assert "POST" in response.headers.get("Allow", "")


def test_a_wrong_method_on_the_api_answers_json_405(client):
    response = client.delete("/api/v1/openapi.json")
    assert response.status_code == 405
    assert response.is_json
    assert "GET" in response.headers.get("Allow", "")


def test_a_missing_record_refused_by_a_service_is_a_404_page(login_as):
    client = login_as("admin")
    response = client.get("/regions/999999/edit")
    assert_friendly_page(response, 404, "No such region.")


@pytest.fixture
def database_down_app(tmp_path):
    """An app whose SQLite database cannot be opened (the URL names a folder)."""
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}", "TESTING": True}, env=support.TEST_ENV)


@pytest.mark.parametrize("path", ["/", "/no/such/page"])
def test_a_signed_in_visitor_gets_the_friendly_page_while_the_database_is_down(database_down_app, path):
    client = database_down_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = "1", True
    response = client.get(path)
    assert response.status_code == (503 if path == "/" else 404)  # the page needs the database; a 404 does not
    assert_friendly_page(response, response.status_code, "Back to the start")
    if response.status_code == 503:
        assert response.headers["Retry-After"] == "5"


@pytest.mark.config(REQUEST_MAX_KB=64)
def test_a_request_larger_than_the_request_limit_is_refused_with_413(login_as):
    client = login_as("crisis_team")

    response = client.post("/drtests/templates/new", data={"name": "x" * (100 * 1024)})

    assert response.status_code == 413 and "That request is too large." in response.get_data(as_text=True)


def test_the_request_limit_is_read_from_request_max_kb():
    from config import load_config

    assert load_config({**support.TEST_ENV, "REQUEST_MAX_KB": "64"})["REQUEST_MAX_KB"] == 64
    with pytest.raises(ConfigError, match="REQUEST_MAX_KB"):
        load_config({**support.TEST_ENV, "REQUEST_MAX_KB": "lots"})


def test_the_favicon_is_served_at_the_root_to_anyone(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO header, not a page
