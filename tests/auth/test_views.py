"""Signing in and out, one's own account and tokens, and the admin's user pages, through the browser views."""
from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import func, select

from app.auth import services as auth
from app.auth.models import ApiToken, User
from app.auth.roles import Role
from app.extensions import db
from tests.auth.conftest import page_csrf
from tests.conftest import PASSWORD, csrf_token_from, form_post, log_in

NON_ADMINS = [Role.CRISIS_TEAM, Role.RESPONDER, Role.EXECUTIVE]
THROTTLED = "Too many failed sign-in attempts"
TOKEN_PATTERN = re.compile(r"qd_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def stored(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def is_redirect_to_login(response) -> bool:
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def field_error(html: str, field_id: str) -> str:
    """The error text shown under one form field ('' when there is none)."""
    match = re.search(rf'<p id="{re.escape(field_id)}-error" class="error">([^<]*)</p>', html)
    return match.group(1) if match else ""


def login_with_next(client, email: str, next_url: str):
    page = client.get("/login")
    return client.post(f"/login?next={quote(next_url, safe='')}",
                       data={"email": email, "password": PASSWORD, "csrf_token": csrf_token_from(text_of(page))})


# --- signing in ---------------------------------------------------------------------------------------------

def test_signing_in_redirects_to_home_and_opens_a_session(app, client, make_user):
    user = make_user(Role.RESPONDER)
    assert is_redirect_to_login(client.get("/"))
    response = log_in(client, user.email.upper())
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert user.name in text_of(home)


@pytest.mark.parametrize("next_url", ["/calendar", "/regions?sort=name", "/account/tokens"])
def test_signing_in_follows_a_relative_next(app, client, make_user, next_url):
    response = login_with_next(client, make_user(Role.RESPONDER).email, next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == next_url


@pytest.mark.parametrize("next_url", ["//evil.example", "https://evil.example", "http://evil.example/login",
                                      "///evil.example", "evil.example", "javascript:alert(1)"])
def test_signing_in_never_follows_a_next_to_another_site(app, client, make_user, next_url):
    response = login_with_next(client, make_user(Role.RESPONDER).email, next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_an_already_signed_in_user_is_not_sent_to_another_site_either(app, login_as):
    client = login_as(Role.RESPONDER)
    response = client.get("/login?next=//evil.example")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("email, password", [("known", "not the password at all"), ("nobody@example.com", PASSWORD)])
def test_wrong_credentials_say_so_with_401_and_do_not_sign_in(app, client, make_user, email, password):
    user = make_user(Role.RESPONDER)
    response = log_in(client, user.email if email == "known" else email, password)
    assert response.status_code == 401
    assert "Wrong email or password." in text_of(response)
    assert is_redirect_to_login(client.get("/"))


def test_an_empty_sign_in_form_is_refused_without_a_server_error(app, client):
    response = form_post(client, "/login", {"email": "", "password": ""})
    assert response.status_code == 401
    assert "This field is required." in text_of(response)


@pytest.mark.config(LOGIN_MAX_FAILURES=3)
def test_sign_in_is_throttled_after_too_many_failures_for_one_email(app, client, make_user):
    user = make_user(Role.RESPONDER)
    for _attempt in range(3):
        assert log_in(client, user.email, "not the password at all").status_code == 401
    throttled = log_in(client, user.email, PASSWORD)  # even the right password waits now
    assert throttled.status_code == 429
    assert THROTTLED in text_of(throttled)
    assert is_redirect_to_login(client.get("/"))


@pytest.mark.config(LOGIN_MAX_FAILURES=3)
def test_throttling_one_email_leaves_other_accounts_alone(app, client, make_user):
    victim, other = make_user(Role.RESPONDER), make_user(Role.RESPONDER)
    for _attempt in range(4):
        log_in(client, victim.email, "not the password at all")
    assert log_in(app.test_client(), other.email).status_code == 302


@pytest.mark.config(LOGIN_MAX_FAILURES=2, TRUSTED_PROXY_HOPS=1)
def test_behind_a_trusted_proxy_throttling_counts_per_forwarded_client(app, make_user):
    user = make_user(Role.RESPONDER)
    attacker = app.test_client()
    attacker.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
    for _attempt in range(2):
        assert log_in(attacker, user.email, "not the password at all").status_code == 401
    assert log_in(attacker, user.email, "not the password at all").status_code == 429

    colleague = app.test_client()  # same proxy address, another real client
    colleague.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.20"
    assert log_in(colleague, user.email).status_code == 302


@pytest.mark.config(LOGIN_MAX_FAILURES=2)
def test_without_a_trusted_proxy_forwarded_addresses_are_ignored(app, make_user):
    user = make_user(Role.RESPONDER)
    for forged in ("203.0.113.1", "203.0.113.2"):
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forged
        assert log_in(client, user.email, "not the password at all").status_code == 401
    forger = app.test_client()
    forger.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.3"
    assert log_in(forger, user.email, "not the password at all").status_code == 429


@pytest.mark.config(LOGIN_MAX_FAILURES=3)
def test_a_successful_sign_in_does_not_count_as_a_failure(app, make_user):
    user = make_user(Role.RESPONDER)
    failing = app.test_client()
    for _attempt in range(2):
        assert log_in(failing, user.email, "not the password at all").status_code == 401
    assert log_in(app.test_client(), user.email).status_code == 302
    assert log_in(failing, user.email, "not the password at all").status_code == 401  # third failure
    assert log_in(failing, user.email, "not the password at all").status_code == 429


def test_an_inactive_user_cannot_sign_in(app, client, make_user):
    user = make_user(Role.RESPONDER)
    auth.update_user(user, name=user.name, role=user.role, time_zone="UTC", region_id=None, active=False)
    response = log_in(client, user.email)
    assert response.status_code == 401
    assert "Wrong email or password." in text_of(response)
    assert is_redirect_to_login(client.get("/"))


def test_a_user_deactivated_while_signed_in_is_signed_out_on_the_next_request(app, login_as):
    client = login_as(Role.RESPONDER)
    assert client.get("/").status_code == 200
    user = client.user
    auth.update_user(user, name=user.name, role=user.role, time_zone="UTC", region_id=None, active=False)
    assert is_redirect_to_login(client.get("/"))
    assert is_redirect_to_login(client.get("/account"))


# --- signing out --------------------------------------------------------------------------------------------

def test_sign_out_is_post_only(app, login_as):
    client = login_as(Role.RESPONDER)
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_signing_out_ends_the_session(app, login_as):
    client = login_as(Role.RESPONDER)
    response = form_post(client, "/logout", {}, page_url="/")
    assert is_redirect_to_login(response)
    assert is_redirect_to_login(client.get("/"))


# --- one's own account --------------------------------------------------------------------------------------

def test_the_account_page_updates_own_name_time_zone_and_region(app, login_as, make_region):
    client = login_as(Role.RESPONDER)
    region = make_region(name="Manila")
    response = form_post(client, "/account", {"name": " Rosa Diaz ", "time_zone": "Asia/Manila",
                                              "region_id": str(region.id)})
    assert response.status_code == 302
    user = stored(client.user)
    assert (user.name, user.time_zone, user.region_id) == ("Rosa Diaz", "Asia/Manila", region.id)
    assert user.role == Role.RESPONDER


@pytest.mark.parametrize("changes, field", [
    ({"name": ""}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"time_zone": "Europe/Atlantis"}, "time_zone"),
    ({"time_zone": ""}, "time_zone"),
    ({"region_id": "999999"}, "region_id"),
    ({"region_id": "not-a-number"}, "region_id"),
])
def test_bad_account_input_shows_an_error_and_changes_nothing(app, login_as, changes, field):
    client = login_as(Role.RESPONDER, time_zone="Europe/Paris")
    before = (client.user.name, client.user.time_zone, client.user.region_id)
    response = form_post(client, "/account", {"name": "New Name", "time_zone": "Asia/Tokyo", "region_id": ""}
                         | changes)
    assert response.status_code == 200
    assert field_error(text_of(response), field)
    user = stored(client.user)
    assert (user.name, user.time_zone, user.region_id) == before


def _change_password(client, current: str, new: str):
    token = page_csrf(client, "/account")
    return client.post("/account/password", data={"pw-csrf_token": token, "pw-current_password": current,
                                                  "pw-new_password": new})


def test_changing_the_password_with_a_wrong_current_password_shows_the_error_on_that_field(app, login_as):
    client = login_as(Role.RESPONDER)
    response = _change_password(client, "not my password", "a brand new secret")
    assert response.status_code == 422
    assert field_error(text_of(response), "pw-current_password") == "The current password is wrong."
    assert auth.authenticate(client.user.email, PASSWORD) is not None


def test_changing_the_password_refuses_a_short_new_password(app, login_as):
    client = login_as(Role.RESPONDER)
    response = _change_password(client, PASSWORD, "short")
    assert response.status_code == 422
    assert field_error(text_of(response), "pw-new_password")
    assert auth.authenticate(client.user.email, PASSWORD) is not None


def test_changing_the_password_replaces_it(app, login_as):
    client = login_as(Role.RESPONDER)
    response = _change_password(client, PASSWORD, "a brand new secret")
    assert response.status_code == 302
    assert log_in(app.test_client(), client.user.email, "a brand new secret").status_code == 302
    assert log_in(app.test_client(), client.user.email, PASSWORD).status_code == 401


def test_changing_the_password_signs_out_other_sessions_but_keeps_this_one(app, login_as):
    client = login_as(Role.RESPONDER)
    laptop = app.test_client()
    assert log_in(laptop, client.user.email).status_code == 302
    assert laptop.get("/").status_code == 200

    assert _change_password(client, PASSWORD, "a brand new secret").status_code == 302

    assert client.get("/").status_code == 200
    assert is_redirect_to_login(laptop.get("/"))


def test_an_admin_password_reset_signs_the_user_out_everywhere(app, login_as, make_user):
    admin = login_as(Role.ADMIN)
    user = make_user(Role.RESPONDER)
    phone = app.test_client()
    assert log_in(phone, user.email).status_code == 302

    assert _reset_password(admin, user.id, "reset by the admin").status_code == 302

    assert is_redirect_to_login(phone.get("/"))
    assert admin.get("/").status_code == 200


# --- API tokens ----------------------------------------------------------------------------------------------

def test_a_new_token_is_shown_once_and_works(app, login_as):
    client = login_as(Role.EXECUTIVE)
    created = form_post(client, "/account/tokens", {"name": "monitoring"})
    assert created.status_code == 200
    secrets_shown = TOKEN_PATTERN.findall(text_of(created))
    assert len(secrets_shown) == 1
    assert auth.user_for_token(secrets_shown[0]) == client.user
    reloaded = client.get("/account/tokens")
    assert "monitoring" in text_of(reloaded)
    assert TOKEN_PATTERN.search(text_of(reloaded)) is None


def test_a_token_needs_a_name(app, login_as):
    client = login_as(Role.EXECUTIVE)
    response = form_post(client, "/account/tokens", {"name": "   "})
    assert response.status_code == 200
    assert field_error(text_of(response), "name")
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_revoking_a_token_from_the_tokens_page(app, login_as):
    client = login_as(Role.EXECUTIVE)
    token, raw = auth.create_token(client.user, name="old script")
    response = form_post(client, f"/account/tokens/{token.id}/revoke", {}, page_url="/account/tokens")
    assert response.status_code == 302
    assert auth.user_for_token(raw) is None
    assert "revoked" in text_of(client.get("/account/tokens"))


def test_one_cannot_revoke_someone_elses_token_from_the_tokens_page(app, login_as, make_user):
    owner = make_user(Role.RESPONDER)
    token, raw = auth.create_token(owner, name="theirs")
    client = login_as(Role.CRISIS_TEAM)
    response = form_post(client, f"/account/tokens/{token.id}/revoke", {}, page_url="/account/tokens")
    assert response.status_code == 404
    assert auth.user_for_token(raw) == owner


# --- admin: users --------------------------------------------------------------------------------------------

def test_the_users_page_lists_every_user(app, login_as, make_user):
    client = login_as(Role.ADMIN)
    others = [make_user(Role.RESPONDER), make_user(Role.EXECUTIVE)]
    page = client.get("/admin/users")
    assert page.status_code == 200
    for user in [client.user, *others]:
        assert user.email in text_of(page)


def test_an_admin_creates_a_user(app, login_as, make_region):
    client = login_as(Role.ADMIN)
    region = make_region()
    response = form_post(client, "/admin/users/new", {
        "email": "New.Person@Example.com", "name": "New Person", "role": "responder", "time_zone": "Asia/Manila",
        "region_id": str(region.id), "password": "a long initial secret"})
    assert response.status_code == 302
    user = auth.find_user_by_email("new.person@example.com")
    assert (user.name, user.role, user.time_zone, user.region_id) == ("New Person", Role.RESPONDER,
                                                                      "Asia/Manila", region.id)
    assert auth.authenticate("new.person@example.com", "a long initial secret") == user


@pytest.mark.parametrize("changes, field, message", [
    ({"email": "not-an-email"}, "email", "Invalid email address."),
    ({"email": ""}, "email", "This field is required."),
    ({"email": "TAKEN@example.com"}, "email", "already exists"),
    ({"password": "too short"}, "password", "between 12 and 200"),
    ({"name": ""}, "name", "This field is required."),
    ({"role": "superuser"}, "role", "Not a valid choice"),
    ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Unknown time zone"),
    ({"region_id": "999999"}, "region_id", "Not a valid choice"),
    ({"region_id": "abc"}, "region_id", ""),
])
def test_creating_a_user_with_bad_input_shows_the_error_and_writes_nothing(app, login_as, make_user,
                                                                           changes, field, message):
    client = login_as(Role.ADMIN)
    make_user(Role.RESPONDER, email="taken@example.com")
    count = user_count()
    response = form_post(client, "/admin/users/new", {
        "email": "new@example.com", "name": "New", "role": "responder", "time_zone": "UTC", "region_id": "",
        "password": "a long initial secret"} | changes)
    assert response.status_code == 200
    error = field_error(text_of(response), field)
    assert error and message in error
    assert user_count() == count


def test_an_admin_changes_a_users_role_and_deactivates_them(app, login_as, make_user):
    client = login_as(Role.ADMIN)
    user = make_user(Role.RESPONDER)
    # An unticked checkbox is simply absent from the form.
    response = form_post(client, f"/admin/users/{user.id}", {
        "name": "Renamed", "role": "executive", "time_zone": "Europe/Berlin", "region_id": ""})
    assert response.status_code == 302
    changed = stored(user)
    assert (changed.name, changed.role, changed.time_zone, changed.active) == ("Renamed", Role.EXECUTIVE,
                                                                                 "Europe/Berlin", False)
    assert log_in(app.test_client(), user.email).status_code == 401


def test_an_admin_reactivates_a_user(app, login_as, make_user):
    client = login_as(Role.ADMIN)
    user = make_user(Role.RESPONDER)
    auth.update_user(user, name=user.name, role=user.role, time_zone="UTC", region_id=None, active=False)
    response = form_post(client, f"/admin/users/{user.id}", {
        "name": user.name, "role": "responder", "time_zone": "UTC", "region_id": "", "active": "y"})
    assert response.status_code == 302
    assert stored(user).active is True


def test_the_last_admin_cannot_demote_themselves_from_the_edit_page(app, login_as):
    client = login_as(Role.ADMIN)
    admin = client.user
    response = form_post(client, f"/admin/users/{admin.id}", {
        "name": admin.name, "role": "responder", "time_zone": "UTC", "region_id": "", "active": "y"})
    assert response.status_code == 200
    assert "last active administrator" in field_error(text_of(response), "role")
    assert stored(admin).role == Role.ADMIN
    assert client.get("/admin/users").status_code == 200


@pytest.mark.parametrize("changes, field", [
    ({"name": ""}, "name"),
    ({"role": "root"}, "role"),
    ({"time_zone": "Nowhere"}, "time_zone"),
    ({"region_id": "123456"}, "region_id"),
])
def test_editing_a_user_with_bad_input_shows_the_error_and_changes_nothing(app, login_as, make_user, changes, field):
    client = login_as(Role.ADMIN)
    user = make_user(Role.RESPONDER, time_zone="Europe/Paris")
    response = form_post(client, f"/admin/users/{user.id}", {
        "name": "Renamed", "role": "executive", "time_zone": "UTC", "region_id": "", "active": "y"} | changes)
    assert response.status_code == 200
    assert field_error(text_of(response), field)
    unchanged = stored(user)
    assert (unchanged.name, unchanged.role, unchanged.time_zone) == (user.name, Role.RESPONDER, "Europe/Paris")


def test_editing_a_user_that_does_not_exist_is_not_found(app, login_as):
    assert login_as(Role.ADMIN).get("/admin/users/987654").status_code == 404


def _reset_password(client, user_id: int, password: str):
    token = page_csrf(client, f"/admin/users/{user_id}")
    return client.post(f"/admin/users/{user_id}/password", data={"reset-csrf_token": token,
                                                                 "reset-password": password})


def test_an_admin_resets_a_users_password(app, login_as, make_user):
    client = login_as(Role.ADMIN)
    user = make_user(Role.RESPONDER)
    response = _reset_password(client, user.id, "reset by the admin")
    assert response.status_code == 302
    assert log_in(app.test_client(), user.email, "reset by the admin").status_code == 302
    assert log_in(app.test_client(), user.email, PASSWORD).status_code == 401


def test_a_short_reset_password_is_refused(app, login_as, make_user):
    client = login_as(Role.ADMIN)
    user = make_user(Role.RESPONDER)
    response = _reset_password(client, user.id, "short")
    assert response.status_code == 422
    assert field_error(text_of(response), "reset-password")
    assert auth.authenticate(user.email, PASSWORD) == user


@pytest.mark.parametrize("role", NON_ADMINS)
@pytest.mark.parametrize("method, path", [("GET", "/admin/users"), ("GET", "/admin/users/new"),
                                          ("POST", "/admin/users/new"), ("GET", "/admin/users/{id}"),
                                          ("POST", "/admin/users/{id}"), ("POST", "/admin/users/{id}/password")])
def test_non_admins_get_403_on_the_user_pages(app, login_as, make_user, role, method, path):
    target = make_user(Role.RESPONDER)
    client = login_as(role)
    token = page_csrf(client, "/account")
    response = client.open(path.format(id=target.id), method=method,
                           data={"csrf_token": token, "name": "Hijacked", "role": "admin", "time_zone": "UTC",
                                 "active": "y", "email": "evil@example.com", "password": "a long password here",
                                 "reset-password": "a long password here"} if method == "POST" else None)
    assert response.status_code == 403
    assert stored(target).name != "Hijacked"
    assert auth.find_user_by_email("evil@example.com") is None
    assert auth.authenticate(target.email, PASSWORD) == target
