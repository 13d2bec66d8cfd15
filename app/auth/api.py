"""API: who am I, my tokens, and (admins) users."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import load_form
from app.auth import services
from app.auth.forms import TokenForm, UserCreateForm, UserEditForm
from app.auth.models import ApiToken, User
from app.forms_common import form_values
from app.auth.roles import ADMINS, EVERYONE

USER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "email": {"type": "string"}, "name": {"type": "string"},
    "role": {"type": "string"}, "time_zone": {"type": "string"}, "region_id": {"type": ["integer", "null"]},
    "active": {"type": "boolean"}}}
TOKEN_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "prefix": {"type": "string"},
    "created_at": {"type": "string"}, "last_used_at": {"type": ["string", "null"]},
    "revoked_at": {"type": ["string", "null"]}, "token": {"type": "string", "description": "only when created"}}}


def user_json(user: User) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role.value,
            "time_zone": user.time_zone, "region_id": user.region_id, "active": user.active}


def token_json(token: ApiToken) -> dict:
    return {"id": token.id, "name": token.name, "prefix": token.prefix, "created_at": token.created_at.isoformat(),
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None}


@bp.get("/me")
@allow(EVERYONE)
@api_doc("The user this token belongs to", response=USER_SCHEMA, tag="account")
def me():
    return jsonify(user_json(current_user))


@bp.get("/tokens")
@allow(EVERYONE)
@api_doc("My API tokens (secrets are never shown again)", response={"type": "array", "items": TOKEN_SCHEMA},
         tag="account")
def list_tokens():
    return jsonify([token_json(t) for t in services.list_tokens(current_user)])


@bp.post("/tokens")
@allow(EVERYONE)
@api_doc("Create an API token; the response holds the secret once", request=TokenForm, response=TOKEN_SCHEMA,
         status=201, tag="account")
def create_token():
    form = load_form(TokenForm)
    token, secret = services.create_token(current_user, name=form.name.data)
    return jsonify(token_json(token) | {"token": secret}), 201


@bp.delete("/tokens/<int:token_id>")
@allow(EVERYONE)
@api_doc("Revoke one of my tokens", response=TOKEN_SCHEMA, tag="account")
def revoke_token(token_id: int):
    return jsonify(token_json(services.revoke_token(current_user, token_id)))


@bp.get("/users")
@allow(ADMINS)
@api_doc("All users", response={"type": "array", "items": USER_SCHEMA}, tag="users")
def list_users():
    return jsonify([user_json(u) for u in services.list_users()])


@bp.post("/users")
@allow(ADMINS)
@api_doc("Create a user", request=UserCreateForm, response=USER_SCHEMA, status=201, tag="users")
def create_user():
    form = load_form(UserCreateForm)
    user = services.create_user(**form_values(form))
    return jsonify(user_json(user)), 201


@bp.get("/users/<int:user_id>")
@allow(ADMINS)
@api_doc("One user", response=USER_SCHEMA, tag="users")
def get_user(user_id: int):
    return jsonify(user_json(services.get_user(user_id)))


@bp.patch("/users/<int:user_id>")
@allow(ADMINS)
@api_doc("Change a user's name, role, time zone, region or active flag (fields left out keep their value)",
         request=UserEditForm, response=USER_SCHEMA, tag="users")
def update_user(user_id: int):
    user = services.get_user(user_id)
    form = load_form(UserEditForm, obj=user, partial=True)
    services.update_user(user, **form_values(form))
    return jsonify(user_json(user))
