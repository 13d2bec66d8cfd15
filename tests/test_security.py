"""Browser-facing defences: CSRF, cookie flags, security headers, no inline script, no caching of private pages."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.auth import services as auth
from app.auth.roles import Role
from app.extensions import db
from tests.conftest import PASSWORD, csrf_token_from, log_in

TEMPLATES = Path(__file__).resolve().parent.parent / "app" / "templates"
TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.html"))
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_URL = re.compile(r"""=\s*["']?\s*javascript:""", re.IGNORECASE)
CSRF_MESSAGE = "The form expired or was sent from elsewhere"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def is_redirect_to_login(response) -> bool:
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def csp_directives(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name] = value.strip()
    return directives


def page_rules_without_arguments(app) -> list[str]:
    """Every GET page without URL arguments; /favicon.ico is the same public file for everyone, so it may be cached."""
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith("/api/")
                  and rule.rule != "/favicon.ico")


# --- CSRF ----------------------------------------------------------------------------------------------------

def test_signing_in_without_a_csrf_token_is_refused(app, client, make_user):
    user = make_user(Role.RESPONDER)
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert CSRF_MESSAGE in text_of(response)
    assert is_redirect_to_login(client.get("/"))
    db.session.expire_all()
    assert user.last_login_at is None


def test_a_csrf_token_from_another_browser_is_refused(app, client, make_user):
    user = make_user(Role.RESPONDER)
    client.get("/login")
    foreign_token = csrf_token_from(text_of(app.test_client().get("/login")))
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": foreign_token})
    assert response.status_code == 400
    assert is_redirect_to_login(client.get("/"))


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_saving_the_account_without_a_valid_csrf_token_is_refused(app, login_as, token):
    client = login_as(Role.RESPONDER, name="Original Name")
    data = {"name": "Changed By Attacker", "time_zone": "Asia/Tokyo", "region_id": ""}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/account", data=data)
    assert response.status_code == 400
    assert CSRF_MESSAGE in text_of(response)
    db.session.expire_all()
    assert (client.user.name, client.user.time_zone) == ("Original Name", "UTC")


def test_signing_out_without_a_csrf_token_is_refused(app, login_as):
    client = login_as(Role.RESPONDER)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_revoking_a_token_without_a_csrf_token_is_refused(app, login_as):
    client = login_as(Role.RESPONDER)
    token, raw = auth.create_token(client.user, name="keep")
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 400
    assert auth.user_for_token(raw) == client.user


def test_an_admin_action_without_a_csrf_token_is_refused(app, login_as):
    client = login_as(Role.ADMIN)
    response = client.post("/admin/users/new", data={
        "email": "planted@example.com", "name": "Planted", "role": "admin", "time_zone": "UTC", "region_id": "",
        "password": "a long planted secret"})
    assert response.status_code == 400
    assert auth.find_user_by_email("planted@example.com") is None


# --- cookies -------------------------------------------------------------------------------------------------

def test_the_session_cookie_is_http_only_and_same_site_lax(app, client, make_user):
    response = log_in(client, make_user(Role.RESPONDER).email)
    assert response.status_code == 302
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    assert cookies, response.headers
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookies[0].split(";")[1:]}
    assert "httponly" in attributes
    assert attributes.get("samesite", "").lower() == "samesite=lax"


def test_the_session_cookie_is_secure_when_served_over_https():
    from app import create_app
    from tests import support

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"},
                     env=support.TEST_ENV | {"PUBLIC_BASE_URL": "https://qd.example.com"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


# --- headers -------------------------------------------------------------------------------------------------

def assert_security_headers(response, where: str) -> None:
    directives = csp_directives(response)
    assert directives, f"{where}: no Content-Security-Policy"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"], where
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"], where
    assert directives.get("script-src") == "'self'", where
    assert directives.get("frame-ancestors") == "'none'", where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where


def test_every_page_for_a_signed_in_user_carries_the_security_headers(app, login_as):
    client = login_as(Role.ADMIN)
    pages = page_rules_without_arguments(app)
    assert len(pages) >= 8
    checked = 0
    for url in pages:
        response = client.get(url)
        if response.mimetype == "text/html":
            assert_security_headers(response, url)
            checked += 1
    assert checked >= 8


@pytest.mark.parametrize("how", ["login page", "sign-in failure", "redirect", "404", "405", "csrf failure",
                                 "403", "throttled"])
@pytest.mark.config(LOGIN_MAX_FAILURES=1)
def test_error_and_anonymous_pages_carry_the_security_headers(app, client, login_as, make_user, how):
    if how == "login page":
        response = client.get("/login")
    elif how == "sign-in failure":
        response = log_in(client, "nobody@example.com", "wrong password here")
    elif how == "redirect":
        response = client.get("/account")
    elif how == "404":
        response = client.get("/no/such/page")
    elif how == "405":
        response = client.get("/logout")
    elif how == "csrf failure":
        response = client.post("/login", data={"email": "a@example.com", "password": "x"})
    elif how == "403":
        response = login_as(Role.EXECUTIVE).get("/admin/users")
    else:
        log_in(client, "nobody@example.com", "wrong password here")
        response = log_in(client, "nobody@example.com", "wrong password here")
        assert response.status_code == 429
    assert_security_headers(response, how)


def test_api_answers_carry_the_security_headers_too(app, api_as, client):
    assert_security_headers(api_as(Role.RESPONDER).get("/api/v1/me"), "/api/v1/me")
    assert_security_headers(client.get("/api/v1/me"), "/api/v1/me anonymous")


def test_pages_for_signed_in_users_are_not_cached(app, login_as):
    client = login_as(Role.ADMIN)
    for url in page_rules_without_arguments(app):
        response = client.get(url)
        assert "no-store" in response.headers.get("Cache-Control", ""), url


def test_api_answers_to_a_token_are_not_cached(app, api_as):
    response = api_as(Role.RESPONDER).get("/api/v1/me")
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_the_login_redirect_after_sign_in_is_not_cached(app, client, make_user):
    response = log_in(client, make_user(Role.RESPONDER).email)
    assert response.status_code == 302
    assert "no-store" in response.headers.get("Cache-Control", "")


# --- templates -----------------------------------------------------------------------------------------------

def test_there_are_templates_to_scan():
    assert len(TEMPLATE_FILES) >= 10
    assert TEMPLATES / "base.html" in TEMPLATE_FILES


@pytest.mark.parametrize("sample, pattern", [
    ("<script>alert(1)</script>", INLINE_SCRIPT),
    ('<SCRIPT type="module">x()</SCRIPT>', INLINE_SCRIPT),
    ('<button onclick="go()">', EVENT_HANDLER),
    ("<body onload='x()'>", EVENT_HANDLER),
    ('<a href="javascript:go()">', SCRIPT_URL),
])
def test_the_template_scan_recognises_inline_script(sample, pattern):
    assert pattern.search(sample)


@pytest.mark.parametrize("sample", ['<script src="/static/js/app.js"></script>',
                                    '<script defer src="{{ url_for(\'static\', filename=\'js/x.js\') }}"></script>',
                                    '<p class="once">', '<input name="online">'])
def test_the_template_scan_allows_script_files_and_ordinary_attributes(sample):
    assert not any(pattern.search(sample) for pattern in (INLINE_SCRIPT, EVENT_HANDLER, SCRIPT_URL))


@pytest.mark.parametrize("template", TEMPLATE_FILES, ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_no_template_has_inline_script(template):
    source = template.read_text()
    for pattern in (INLINE_SCRIPT, EVENT_HANDLER, SCRIPT_URL):
        found = pattern.search(source)
        assert found is None, f"{template.name}: {found.group(0) if found else ''}"
