"""The JSON API's authentication, tokens and users, and how it answers errors."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth import services as auth
from app.auth.models import User
from app.auth.roles import Role
from app.extensions import db
from tests.conftest import PASSWORD

NON_ADMINS = [Role.CRISIS_TEAM, Role.RESPONDER, Role.EXECUTIVE]
NEW_USER = {"email": "new@example.com", "name": "New Person", "role": "responder", "time_zone": "UTC",
            "password": "a long initial secret"}


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body.get("error"), str) and body["error"]
    return body


# --- authentication ----------------------------------------------------------------------------------------

def test_no_token_is_401_json_with_a_bearer_challenge(app, client):
    response = client.get("/api/v1/me")
    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("authorization", [
    "Bearer nonsense", "Bearer qd_deadbeef_notarealsecret", "Bearer ", "Basic dXNlcjpwYXNz", "qd_x_y",
])
def test_a_bad_token_is_401(app, client, make_user, authorization):
    auth.create_token(make_user(Role.ADMIN), name="real")
    assert_json_error(client.get("/api/v1/me", headers={"Authorization": authorization}), 401)


def test_a_token_with_a_wrong_secret_is_401(app, api_as):
    api = api_as(Role.ADMIN)
    api.token = api.token[:-3] + ("xyz" if not api.token.endswith("xyz") else "abc")
    assert_json_error(api.get("/api/v1/me"), 401)


def test_a_revoked_token_is_401(app, api_as):
    api = api_as(Role.ADMIN)
    assert api.get("/api/v1/me").status_code == 200
    auth.revoke_token(api.user, auth.list_tokens(api.user)[0].id)
    assert_json_error(api.get("/api/v1/me"), 401)


def test_the_token_of_a_deactivated_user_is_401(app, api_as):
    api = api_as(Role.RESPONDER)
    user = api.user
    auth.update_user(user, name=user.name, role=user.role, time_zone="UTC", region_id=None, active=False)
    assert_json_error(api.get("/api/v1/me"), 401)


def test_the_token_scheme_is_case_insensitive(app, api_as):
    api = api_as(Role.RESPONDER)
    response = api.client.get("/api/v1/me", headers={"Authorization": f"bearer {api.token}"})
    assert response.status_code == 200


def test_a_browser_session_does_not_authenticate_the_api(app, login_as):
    client = login_as(Role.ADMIN)
    assert client.get("/account").status_code == 200
    assert_json_error(client.get("/api/v1/me"), 401)
    assert_json_error(client.post("/api/v1/tokens", json={"name": "via cookie"}), 401)
    assert auth.list_tokens(client.user) == []


def test_me_describes_the_tokens_user(app, api_as):
    api = api_as(Role.EXECUTIVE, time_zone="Asia/Tokyo")
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    assert response.get_json() == {"id": api.user.id, "email": api.user.email, "name": api.user.name,
                                   "role": "executive", "time_zone": "Asia/Tokyo", "region_id": None,
                                   "active": True}


# --- tokens -------------------------------------------------------------------------------------------------

def test_creating_a_token_returns_its_secret_once_with_201(app, api_as):
    api = api_as(Role.RESPONDER)
    created = api.post("/api/v1/tokens", json={"name": "deploy hook"})
    assert created.status_code == 201
    body = created.get_json()
    assert body["name"] == "deploy hook"
    assert body["token"].startswith(f"qd_{body['prefix']}_")
    assert auth.user_for_token(body["token"]) == api.user
    listed = api.get("/api/v1/tokens").get_json()
    assert {t["name"] for t in listed} == {"tests", "deploy hook"}
    assert all("token" not in t for t in listed)


def test_creating_a_token_without_a_name_is_422(app, api_as):
    body = assert_json_error(api_as(Role.RESPONDER).post("/api/v1/tokens", json={"name": "  "}), 422)
    assert set(body["fields"]) == {"name"}


def test_the_token_list_shows_only_ones_own_tokens(app, api_as, make_user):
    api = api_as(Role.ADMIN)
    auth.create_token(make_user(Role.RESPONDER), name="someone else's")
    assert [t["name"] for t in api.get("/api/v1/tokens").get_json()] == ["tests"]


def test_revoking_ones_own_token(app, api_as):
    api = api_as(Role.RESPONDER)
    token, raw = auth.create_token(api.user, name="old")
    response = api.delete(f"/api/v1/tokens/{token.id}")
    assert response.status_code == 200
    assert response.get_json()["revoked_at"] is not None
    assert auth.user_for_token(raw) is None


def test_revoking_the_token_in_use_locks_the_caller_out(app, api_as):
    api = api_as(Role.RESPONDER)
    own = auth.list_tokens(api.user)[0]
    assert api.delete(f"/api/v1/tokens/{own.id}").status_code == 200
    assert_json_error(api.get("/api/v1/me"), 401)


@pytest.mark.parametrize("role", NON_ADMINS)
def test_someone_elses_token_is_not_found(app, api_as, make_user, role):
    owner = make_user(Role.RESPONDER)
    token, raw = auth.create_token(owner, name="theirs")
    assert_json_error(api_as(role).delete(f"/api/v1/tokens/{token.id}"), 404)
    assert auth.user_for_token(raw) == owner


def test_an_admin_may_revoke_anyones_token(app, api_as, make_user):
    token, raw = auth.create_token(make_user(Role.RESPONDER), name="theirs")
    assert api_as(Role.ADMIN).delete(f"/api/v1/tokens/{token.id}").status_code == 200
    assert auth.user_for_token(raw) is None


# --- users (admins) -----------------------------------------------------------------------------------------

def test_admins_list_users(app, api_as, make_user):
    api = api_as(Role.ADMIN)
    other = make_user(Role.EXECUTIVE)
    response = api.get("/api/v1/users")
    assert response.status_code == 200
    assert {u["email"] for u in response.get_json()} == {api.user.email, other.email}


def test_admins_create_a_user(app, api_as):
    api = api_as(Role.ADMIN)
    response = api.post("/api/v1/users", json=NEW_USER | {"email": "New@Example.com"})
    assert response.status_code == 201
    body = response.get_json()
    assert body | {"id": None} == {"id": None, "email": "new@example.com", "name": "New Person", "role": "responder",
                                   "time_zone": "UTC", "region_id": None, "active": True}
    assert "password" not in body and "password_hash" not in body
    assert auth.authenticate("new@example.com", NEW_USER["password"]).id == body["id"]


def test_admins_get_one_user(app, api_as, make_user):
    other = make_user(Role.CRISIS_TEAM)
    response = api_as(Role.ADMIN).get(f"/api/v1/users/{other.id}")
    assert response.status_code == 200
    assert response.get_json()["email"] == other.email


def test_an_unknown_user_is_404_json(app, api_as):
    assert_json_error(api_as(Role.ADMIN).get("/api/v1/users/987654"), 404)


def test_a_partial_patch_changes_only_the_fields_sent(app, api_as, make_user, make_region):
    region = make_region()
    other = make_user(Role.RESPONDER, name="Kept Name", time_zone="Asia/Manila", region_id=region.id)
    response = api_as(Role.ADMIN).patch(f"/api/v1/users/{other.id}", json={"role": "crisis_team"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() | {"id": None} == {
        "id": None, "email": other.email, "name": "Kept Name", "role": "crisis_team", "time_zone": "Asia/Manila",
        "region_id": region.id, "active": True}
    db.session.expire_all()
    assert db.session.get(User, other.id).role == Role.CRISIS_TEAM


def test_a_patch_can_deactivate_a_user_and_clear_the_region(app, api_as, make_user, make_region):
    other = make_user(Role.RESPONDER, region_id=make_region().id)
    response = api_as(Role.ADMIN).patch(f"/api/v1/users/{other.id}", json={"active": False, "region_id": None})
    assert response.status_code == 200
    assert (response.get_json()["active"], response.get_json()["region_id"]) == (False, None)
    assert auth.authenticate(other.email, PASSWORD) is None


def test_a_patch_of_an_inactive_user_keeps_them_inactive(app, api_as, make_user):
    other = make_user(Role.RESPONDER)
    auth.update_user(other, name=other.name, role=other.role, time_zone="UTC", region_id=None, active=False)
    response = api_as(Role.ADMIN).patch(f"/api/v1/users/{other.id}", json={"name": "Still Away"})
    assert response.status_code == 200
    assert (response.get_json()["name"], response.get_json()["active"]) == ("Still Away", False)


def test_the_last_admin_cannot_demote_themselves_through_the_api(app, api_as):
    api = api_as(Role.ADMIN)
    body = assert_json_error(api.patch(f"/api/v1/users/{api.user.id}", json={"role": "executive"}), 403)
    assert set(body["fields"]) == {"role"}
    db.session.expire_all()
    assert db.session.get(User, api.user.id).role == Role.ADMIN


@pytest.mark.parametrize("role", NON_ADMINS)
@pytest.mark.parametrize("method, path, payload", [
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", NEW_USER),
    ("GET", "/api/v1/users/{id}", None),
    ("PATCH", "/api/v1/users/{id}", {"role": "admin"}),
])
def test_non_admins_get_403_json_on_the_users_api(app, api_as, make_user, role, method, path, payload):
    target = make_user(Role.RESPONDER)
    api = api_as(role)
    response = api.client.open(path.format(id=target.id), method=method, json=payload,
                               headers={"Authorization": f"Bearer {api.token}"})
    assert_json_error(response, 403)
    assert auth.find_user_by_email(NEW_USER["email"]) is None
    db.session.expire_all()
    assert db.session.get(User, target.id).role == Role.RESPONDER


# --- validation and error answers ---------------------------------------------------------------------------

@pytest.mark.parametrize("changes, bad_fields", [
    ({"email": "not-an-email"}, {"email"}),
    ({"password": "short"}, {"password"}),
    ({"role": "superuser"}, {"role"}),
    ({"time_zone": "Mars/Olympus_Mons"}, {"time_zone"}),
    ({"region_id": 999999}, {"region_id"}),
    ({"region_id": "abc"}, {"region_id"}),
    ({"name": {"first": "Ada"}}, {"name"}),
    ({"email": "", "password": ""}, {"email", "password"}),
])
def test_invalid_fields_are_422_naming_each_field(app, api_as, changes, bad_fields):
    api = api_as(Role.ADMIN)
    count = user_count()
    body = assert_json_error(api.post("/api/v1/users", json=NEW_USER | changes), 422)
    assert set(body["fields"]) == bad_fields
    assert all(isinstance(message, str) and message for message in body["fields"].values())
    assert user_count() == count


def test_a_missing_required_field_is_422_naming_it(app, api_as):
    payload = {k: v for k, v in NEW_USER.items() if k != "name"}
    body = assert_json_error(api_as(Role.ADMIN).post("/api/v1/users", json=payload), 422)
    assert set(body["fields"]) == {"name"}


@pytest.mark.parametrize("method, path", [("POST", "/api/v1/users"), ("PATCH", "/api/v1/users/{id}")])
def test_an_unknown_field_is_422_naming_it(app, api_as, method, path):
    api = api_as(Role.ADMIN)
    response = api.client.open(path.format(id=api.user.id), method=method, json={"name": "Someone", "is_superuser": True},
                               headers={"Authorization": f"Bearer {api.token}"})
    body = assert_json_error(response, 422)
    assert body["fields"] == {"is_superuser": "Unknown field."}
    assert auth.find_user_by_email(NEW_USER["email"]) is None


def test_a_duplicate_email_is_409_naming_email(app, api_as, make_user):
    make_user(Role.RESPONDER, email="taken@example.com")
    api = api_as(Role.ADMIN)
    count = user_count()
    body = assert_json_error(api.post("/api/v1/users", json=NEW_USER | {"email": "Taken@Example.com"}), 409)
    assert set(body["fields"]) == {"email"}
    assert user_count() == count


@pytest.mark.parametrize("data, content_type", [
    ("name=x", "application/x-www-form-urlencoded"),
    ('{"name": "x"}', "text/plain"),
    ("{not json", "application/json"),
    ('["name", "x"]', "application/json"),
    ('"just a string"', "application/json"),
    ("", "application/json"),
])
def test_a_body_that_is_not_a_json_object_is_400(app, api_as, data, content_type):
    api = api_as(Role.RESPONDER)
    response = api.post("/api/v1/tokens", data=data, content_type=content_type)
    assert_json_error(response, 400)
    assert [t["name"] for t in api.get("/api/v1/tokens").get_json()] == ["tests"]


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/users/not-a-number", "/api/v2/me"])
def test_an_unknown_api_path_is_404_json(app, api_as, path):
    assert_json_error(api_as(Role.ADMIN).get(path), 404)


def test_an_unknown_api_path_is_404_json_even_without_a_token(app, client):
    assert_json_error(client.get("/api/v1/nope"), 404)


@pytest.mark.parametrize("method, path", [("PUT", "/api/v1/me"), ("DELETE", "/api/v1/users"),
                                          ("POST", "/api/v1/me"), ("PUT", "/api/v1/tokens")])
def test_a_wrong_method_is_405_json(app, api_as, method, path):
    api = api_as(Role.ADMIN)
    response = api.client.open(path, method=method, headers={"Authorization": f"Bearer {api.token}"})
    assert_json_error(response, 405)
