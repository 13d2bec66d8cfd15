"""The route walk: every rule of the URL map, every method, anonymous and each role, against its declaration.

The rules come from app.url_map, so a new route is walked without touching this file; a route whose
URL parameter this file cannot fill fails the walk instead of being skipped.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from werkzeug.routing import Rule

from app.access import PUBLIC, check_every_endpoint_declares_access, declared_access, public
from app.auth.roles import EDITORS, Role
from tests.conftest import PASSWORD
from tests.walk_values import build_url_values

ANONYMOUS = "anonymous"
IDENTITIES = [ANONYMOUS, *Role]
SKIPPED_ENDPOINTS = {"static"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Signing out ends every session of the walker, so these go last, each after signing in again.
LAST_ENDPOINTS = ("auth.logout", "auth.logout_everywhere")
# Contact details: open to every role, but the service answers 403 for someone else's record unless the
# caller is an editor (crisis team, admin). The walk's records belong to `owner`, never to the walker.
OWNER_OR_EDITOR_ENDPOINTS = {
    "oncall.add_method", "oncall.delete_method", "oncall.send_code", "oncall.verify", "oncall.add_rule",
    "oncall.delete_rule", "api.add_contact_method", "api.delete_contact_method", "api.send_verification_code",
    "api.verify_contact_method", "api.add_notification_rule", "api.delete_notification_rule",
    "alerting.test_methods",
    "readiness.update_item", "api.patch_item",  # a readiness checklist item: its owner or an editor
    "runbooks.review", "api.post_review",  # a runbook's review: its owner or an editor
}
# Public, but only to requests signed by Twilio: the walk's unsigned requests must be refused.
SIGNED_ENDPOINTS = {"twilio.sms", "twilio.status", "twilio.voice", "twilio.gather"}
# Short links answer a redirect to the record's page for every allowed role.
REDIRECT_ENDPOINTS = {"alerting.short_link", "incidents.short_link"}
# The quarterly "my contact details are correct" is the person's own word: 403 for everyone else.
OWNER_ONLY_ENDPOINTS = {"oncall.confirm", "api.confirm_contacts"}


def refused_as_not_the_owner(endpoint: str, identity: str) -> bool:
    return endpoint in OWNER_ONLY_ENDPOINTS or (endpoint in OWNER_OR_EDITOR_ENDPOINTS and Role(identity) not in EDITORS)


def walked_rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint not in SKIPPED_ENDPOINTS]


def rule_key(rule: Rule) -> tuple[str, str]:
    return rule.endpoint, rule.rule


def is_api(rule: Rule) -> bool:
    return rule.rule.startswith("/api/")


def walk_order(item: tuple[Rule, str]) -> tuple[int, int, str, str]:
    """GETs first (they must all answer 200), then the other methods, which may change or delete things."""
    rule, method = item
    return (method != "GET", rule.endpoint in LAST_ENDPOINTS, rule.rule, method)


def fill(rule: Rule, values: dict[str, object]) -> str:
    missing = sorted(set(rule.arguments) - set(values))
    if missing:
        pytest.fail(f"the route walk cannot fill {missing} of {rule.rule} ({rule.endpoint}); teach it in url_values()")
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def is_login_redirect(response) -> bool:
    """The access check's answer to an anonymous page request: 302 to /login?next=… (a plain /login is not it)."""
    if response.status_code != 302:
        return False
    location = urlsplit(response.headers["Location"])
    return location.path == "/login" and "next" in parse_qs(location.query)


def refused(response, api: bool) -> bool:
    if api:
        return response.status_code in (401, 403)
    # Pages answer a refused visitor with a redirect to sign in or a 403; a page's own 401 (a wrong
    # password on /login) is not a refusal.
    return response.status_code == 403 or is_login_redirect(response)


@pytest.fixture
def url_values(app, make_user, tmp_path):
    """An object for every URL parameter the routes take, created the way the app creates them."""
    return build_url_values(make_user, tmp_path)


@pytest.fixture
def caller(app, make_user, api_as):
    """(page client, API client) for an identity; anonymous uses a bare client for both."""

    def make(identity):
        if identity == ANONYMOUS:
            client = app.test_client()
            return client.open, client.open, lambda: None
        page = app.test_client()
        email = make_user(identity).email

        def sign_in():
            signed_in = page.post("/login", data={"email": email, "password": PASSWORD})
            assert signed_in.status_code == 302  # CSRF is off in the walk, so the login page has no token to read

        sign_in()
        api = api_as(identity)

        def api_open(url, **kw):
            return api.client.open(url, headers={"Authorization": f"Bearer {api.token}"}, **kw)

        return page.open, api_open, sign_in

    return make


# Every identity on SQLite. The role check answers before any query, the same on both databases; on PostgreSQL the
# walk is for the routes' own queries, so it runs as the identities that together reach every route: anonymous, the
# administrator (every route but the executives' own) and an executive. The crisis team's and the responders' routes
# are subsets of the administrator's.
GRID = [*(("sqlite", identity) for identity in IDENTITIES),
        *(("postgresql", identity) for identity in (ANONYMOUS, Role.ADMIN, Role.EXECUTIVE))]


@pytest.mark.config(WTF_CSRF_ENABLED=False)  # so the role check, not the CSRF check, answers every request
@pytest.mark.parametrize(("app", "identity"), GRID, indirect=["app"], ids=str)
def test_every_route_answers_as_its_access_declaration_says(app, url_values, caller, identity):
    page_open, api_open, sign_in = caller(identity)
    rules = walked_rules(app)
    calls = sorted(((rule, method) for rule in rules for method in sorted(rule.methods - IGNORED_METHODS)),
                   key=walk_order)
    problems, walked = [], set()
    for rule, method in calls:
        url = fill(rule, url_values)
        if rule.endpoint in LAST_ENDPOINTS:
            sign_in()
        response = (api_open if is_api(rule) else page_open)(url, method=method)
        walked.add(rule_key(rule))
        allowed = declared_access(app, rule.endpoint)
        status = response.status_code
        where = f"{identity} {method} {url} ({rule.endpoint}) -> {status}"
        if is_api(rule) and response.mimetype != "application/json":
            problems.append(f"{where}: API answered {response.mimetype}, not JSON")
        if rule.endpoint in SIGNED_ENDPOINTS:
            if status != 403:
                problems.append(f"{where}: an unsigned webhook request must answer 403")
        elif allowed == PUBLIC:
            if refused(response, is_api(rule)):
                problems.append(f"{where}: refused on a public endpoint")
            elif identity == ANONYMOUS and method == "GET" and status != 200:
                problems.append(f"{where}: public page does not answer 200")
        elif identity == ANONYMOUS:
            expected = status == 401 if is_api(rule) else is_login_redirect(response)
            if not expected:
                problems.append(f"{where}: expected {'401' if is_api(rule) else 'a redirect to /login?next='}")
        elif Role(identity) not in allowed:
            if status != 403:
                problems.append(f"{where}: role is not allowed, expected 403")
        elif refused_as_not_the_owner(rule.endpoint, identity):
            if status != 403:
                problems.append(f"{where}: someone else's contact details, expected 403")
        elif rule.endpoint in REDIRECT_ENDPOINTS:
            if status != 302 or is_login_redirect(response):
                problems.append(f"{where}: a short link must redirect to its record")
        elif method == "GET":
            if status != 200:
                problems.append(f"{where}: role is allowed, expected 200")
        elif refused(response, is_api(rule)):
            problems.append(f"{where}: role is allowed but was refused")
    assert not problems, "\n".join(problems)
    assert walked == {rule_key(rule) for rule in rules}
    assert len(walked) == len(list(app.url_map.iter_rules())) - len(SKIPPED_ENDPOINTS)


def test_the_walk_sees_the_routes_of_every_blueprint(app):
    # Guards the walk itself: an empty or truncated URL map would make it pass vacuously.
    blueprints = {rule.endpoint.split(".")[0] for rule in walked_rules(app)}
    assert {"auth", "api", "home", "calendar", "audit"} <= blueprints
    assert len(walked_rules(app)) >= 30


@pytest.mark.fresh_app
def test_an_endpoint_without_an_access_declaration_stops_the_app(app):
    app.add_url_rule("/forgotten", endpoint="forgotten_view", view_func=lambda: "secret")
    with pytest.raises(RuntimeError, match="forgotten_view"):
        check_every_endpoint_declares_access(app)


@pytest.mark.fresh_app
def test_an_endpoint_with_a_declaration_passes_the_check(app):
    app.add_url_rule("/declared", endpoint="declared_view", view_func=public(lambda: "hello"))
    check_every_endpoint_declares_access(app)
    assert app.test_client().get("/declared").status_code == 200
