"""API: /api/v1/people, contact methods, verification codes, notification rules, confirmation."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.oncall import services as contacts
from app.oncall.models import ContactMethod
from tests.oncall.conftest import last_code_sent


def method_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ContactMethod))


@pytest.fixture
def me(api_as, contact_region_us):
    return api_as("responder", region_id=contact_region_us.id)


def test_a_responder_adds_sends_a_code_to_and_verifies_their_own_number(me):
    person = me.user
    added = me.post(f"/api/v1/people/{person.id}/contact-methods",
                    json={"kind": "sms", "address": "(415) 555-2671", "label": "work mobile"})
    assert added.status_code == 201
    body = added.get_json()
    assert (body["address"], body["label"], body["verified"], body["usable"]) == ("+14155552671", "work mobile",
                                                                                 False, False)

    sent = me.post(f"/api/v1/contact-methods/{body['id']}/send-code")
    assert sent.status_code == 200 and sent.get_json()["code_expires_at"]
    code = last_code_sent(contacts.get_method(body["id"]))

    verified = me.post(f"/api/v1/contact-methods/{body['id']}/verify", json={"code": code})
    assert verified.status_code == 200
    assert verified.get_json()["default_rule_created"] is True
    assert verified.get_json()["method"]["verified"] is True
    rules = me.get(f"/api/v1/people/{person.id}/notification-rules").get_json()
    assert [(r["delay_minutes"], r["kind"], r["usable"]) for r in rules] == [(0, "sms", True)]
    listed = me.get(f"/api/v1/people/{person.id}/contact-methods").get_json()
    assert [(m["id"], m["verified"]) for m in listed] == [(body["id"], True)]


@pytest.mark.parametrize("payload, field, message", [
    ({"kind": "sms", "address": "12345"}, "address", "too short"),
    ({"kind": "voice", "address": "CALL-ME-NOW"}, "address", "not letters"),
    ({"kind": "email", "address": "not-an-email"}, "address", ""),
    ({"kind": "pigeon", "address": "+14155552671"}, "kind", ""),
    ({"address": "+14155552671"}, "kind", ""),
    ({"kind": "sms"}, "address", ""),
    ({"kind": "sms", "address": "+14155552671", "priority": 1}, "priority", "Unknown field"),
])
def test_bad_contact_methods_are_a_422_naming_the_field(me, payload, field, message):
    response = me.post(f"/api/v1/people/{me.user.id}/contact-methods", json=payload)
    assert response.status_code == 422
    assert message in response.get_json()["fields"][field]
    assert method_count() == 0


def test_a_duplicate_method_is_a_409(me, add_contact_method):
    add_contact_method(me.user)
    response = me.post(f"/api/v1/people/{me.user.id}/contact-methods", json={"kind": "sms", "address": "4155552671"})
    assert response.status_code == 409
    assert "address" in response.get_json()["fields"]


def test_verification_refusals_name_the_code_and_resending_too_soon_is_a_429(me, add_contact_method):
    method = add_contact_method(me.user)
    url = f"/api/v1/contact-methods/{method.id}"
    assert me.post(f"{url}/verify", json={"code": "123456"}).get_json()["fields"]["code"].startswith("No code")
    assert me.post(f"{url}/send-code").status_code == 200
    too_soon = me.post(f"{url}/send-code")
    assert too_soon.status_code == 429 and "less than a minute ago" in too_soon.get_json()["error"]

    bad_format = me.post(f"{url}/verify", json={"code": "12 34"})
    assert bad_format.status_code == 422 and "6 digits" in bad_format.get_json()["fields"]["code"]
    wrong = f"{(int(last_code_sent(method)) + 1) % 10**6:06d}"
    for _ in range(5):
        assert me.post(f"{url}/verify", json={"code": wrong}).status_code == 422
    locked = me.post(f"{url}/verify", json={"code": last_code_sent(method)})
    assert locked.status_code == 422 and "locked" in locked.get_json()["fields"]["code"]


@pytest.mark.parametrize("role", ["responder", "executive"])
def test_others_cannot_touch_someones_methods_or_rules(api_as, make_user, add_contact_method, role):
    owner = make_user("responder")
    method = add_contact_method(owner)
    rule = contacts.add_rule(owner, owner, contact_method_id=method.id, delay_minutes=1)
    api = api_as(role)

    assert api.get(f"/api/v1/people/{owner.id}/contact-methods").status_code == 200
    for verb, url, payload in [
        ("post", f"/api/v1/people/{owner.id}/contact-methods", {"kind": "sms", "address": "+442079460958"}),
        ("post", f"/api/v1/people/{owner.id}/contact-methods", {"kind": "nonsense"}),  # 403 before validation
        ("post", f"/api/v1/contact-methods/{method.id}/send-code", None),
        ("post", f"/api/v1/contact-methods/{method.id}/verify", {"code": "123456"}),
        ("delete", f"/api/v1/contact-methods/{method.id}", None),
        ("post", f"/api/v1/people/{owner.id}/notification-rules", {"contact_method_id": method.id,
                                                                   "delay_minutes": 5}),
        ("delete", f"/api/v1/notification-rules/{rule.id}", None),
        ("post", f"/api/v1/people/{owner.id}/confirm-contacts", None),
    ]:
        response = getattr(api, verb)(url, json=payload) if verb == "post" else api.delete(url)
        assert response.status_code == 403, (verb, url, response.get_json())
    assert method_count() == 1 and len(contacts.list_rules(owner)) == 1


def test_the_crisis_team_manages_someones_methods_and_rules(api_as, make_user):
    owner = make_user("responder")
    api = api_as("crisis_team")
    method = api.post(f"/api/v1/people/{owner.id}/contact-methods",
                      json={"kind": "voice", "address": "+44 20 7946 0958"}).get_json()
    assert (method["user_id"], method["address"]) == (owner.id, "+442079460958")
    rule = api.post(f"/api/v1/people/{owner.id}/notification-rules",
                    json={"contact_method_id": method["id"], "delay_minutes": 2})
    assert rule.status_code == 201 and rule.get_json()["usable"] is False
    assert api.delete(f"/api/v1/notification-rules/{rule.get_json()['id']}").status_code == 200
    deleted = api.delete(f"/api/v1/contact-methods/{method['id']}")
    assert deleted.status_code == 200 and deleted.get_json()["id"] == method["id"]
    assert method_count() == 0


@pytest.mark.parametrize("payload, field", [
    ({"delay_minutes": 5}, "contact_method_id"),
    ({"contact_method_id": "abc", "delay_minutes": 5}, "contact_method_id"),
    ({"contact_method_id": "OTHER", "delay_minutes": 5}, "contact_method_id"),
    ({"contact_method_id": "MINE"}, "delay_minutes"),
    ({"contact_method_id": "MINE", "delay_minutes": 1441}, "delay_minutes"),
    ({"contact_method_id": "MINE", "delay_minutes": "soon"}, "delay_minutes"),
])
def test_bad_rules_are_a_422_naming_the_field(me, make_user, add_contact_method, payload, field):
    ids = {"MINE": add_contact_method(me.user).id, "OTHER": add_contact_method(make_user("responder")).id}
    payload = {key: ids.get(value, value) for key, value in payload.items()}
    response = me.post(f"/api/v1/people/{me.user.id}/notification-rules", json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_rules_come_soonest_first(me, add_contact_method):
    sms, email = add_contact_method(me.user), add_contact_method(me.user, "email", "me@example.com")
    for method, delay in ((email, 15), (sms, 3), (email, 0)):
        assert me.post(f"/api/v1/people/{me.user.id}/notification-rules",
                       json={"contact_method_id": method.id, "delay_minutes": delay}).status_code == 201
    rules = me.get(f"/api/v1/people/{me.user.id}/notification-rules").get_json()
    assert [(r["delay_minutes"], r["address"]) for r in rules] == [(0, "me@example.com"), (3, "+14155552671"),
                                                                   (15, "me@example.com")]


def test_people_show_phone_and_confirmation_status_and_filter_the_unconfirmed(api_as, make_user, add_contact_method):
    ready = make_user("responder", name="Ready Rowan")
    add_contact_method(ready, verified=True)
    late = make_user("responder", name="Late Lee")
    api = api_as("executive", name="Zed Exec")

    confirmed = api_as("responder", name="Self Confirmer")
    add_contact_method(confirmed.user, "email", "self@example.com", verified=True)
    response = confirmed.post(f"/api/v1/people/{confirmed.user.id}/confirm-contacts")
    assert response.status_code == 200 and response.get_json()["user_id"] == confirmed.user.id

    people = {p["id"]: p for p in api.get("/api/v1/people").get_json()}
    assert (people[ready.id]["has_verified_phone"], people[ready.id]["confirmed_this_quarter"]) == (True, False)
    assert (people[late.id]["has_verified_phone"], people[late.id]["confirmed_this_quarter"]) == (False, False)
    assert people[confirmed.user.id]["confirmed_this_quarter"] is True
    assert people[confirmed.user.id]["confirmed_at"]
    unconfirmed = {p["id"] for p in api.get("/api/v1/people?unconfirmed=true").get_json()}
    assert unconfirmed == {ready.id, late.id, api.user.id}


def test_unknown_people_and_methods_are_404(me):
    assert me.get("/api/v1/people/999/contact-methods").status_code == 404
    assert me.post("/api/v1/contact-methods/999/send-code").status_code == 404
    assert me.delete("/api/v1/notification-rules/999").status_code == 404
