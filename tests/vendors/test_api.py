"""API: /api/v1/vendors, ladders, contacts, confirmations, checks, the campaign, CSV and search, by role."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.vendors import vendor_csv as csvio
from app.vendors.models import Vendor, VendorContact


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def editor(api_as):
    return api_as("crisis_team", name="Casey Crisis")


@pytest.fixture
def erp(make_vendor, make_contact):
    vendor = make_vendor(levels=2, name="Orbis ERP", supports="ERP", contract_id="ORB-1")
    make_contact(vendor, level=1, name="Dana Desk", phone="+12125550142")
    make_contact(vendor, level=2, name="Marcus Lee", email="marcus@orbis.example")
    return vendor


def test_an_editor_creates_changes_and_deletes_a_vendor(editor):
    created = editor.post("/api/v1/vendors", json={"name": "Levy Tax", "tier": "critical", "sla_p1_minutes": 60,
                                                   "contract_expires": "2027-01-20", "owner_id": editor.user.id})
    assert created.status_code == 201
    body = created.get_json()
    assert (body["name"], body["tier"], body["sla_p1_minutes"], body["owner_name"], body["levels"]) == \
        ("Levy Tax", "critical", 60, "Casey Crisis", 0)
    changed = editor.patch(f"/api/v1/vendors/{body['id']}", json={"tier": "important"})
    assert changed.status_code == 200
    assert (changed.get_json()["tier"], changed.get_json()["sla_p1_minutes"],
            changed.get_json()["contract_expires"], changed.get_json()["owner_id"]) == \
        ("important", 60, "2027-01-20", editor.user.id)
    assert editor.delete(f"/api/v1/vendors/{body['id']}").get_json() == {"deleted": body["id"]}
    assert count(Vendor) == 0


@pytest.mark.parametrize("role", ["responder", "executive"])
def test_readers_read_but_cannot_write(api_as, erp, role):
    reader = api_as(role)
    listed = reader.get("/api/v1/vendors?q=erp").get_json()
    assert [item["name"] for item in listed["items"]] == ["Orbis ERP"] and listed["total"] == 1
    assert reader.get(f"/api/v1/vendors/{erp.id}/ladder").status_code == 200
    assert reader.post("/api/v1/vendors", json={"name": "X", "tier": "other"}).status_code == 403
    assert reader.post(f"/api/v1/vendor-contacts/{erp.contacts[0].id}/confirm").status_code == 403
    assert reader.delete(f"/api/v1/vendors/{erp.id}").status_code == 403


@pytest.mark.parametrize("payload, field, message", [
    ({"level": 1, "kind": "external", "name": "Bad", "phone": "+1 212 555"}, "phone", "too short for US (+1)"),
    ({"level": 1, "kind": "external", "name": "Bad", "phone": "212 555 0100"}, "phone", "Start the number with +"),
    ({"level": 3, "kind": "external", "name": "Bad", "email": "x@example.com"}, "level", "levels 1 to 2"),
    ({"level": 1, "kind": "external", "name": "Bad"}, "phone", "nobody can reach"),
    ({"level": 1, "kind": "external", "name": "", "email": "x@example.com"}, "name", ""),
    ({"level": 1, "kind": "external", "name": "Bad", "pager": "1"}, "pager", "Unknown field"),
])
def test_a_bad_contact_is_a_422_naming_the_field(editor, erp, payload, field, message):
    response = editor.post(f"/api/v1/vendors/{erp.id}/contacts", json=payload)
    assert response.status_code == 422
    assert message in response.get_json()["fields"][field]
    assert count(VendorContact) == 2


def test_the_ladder_lists_levels_in_order_with_contacts_and_their_state(editor, erp):
    added = editor.post(f"/api/v1/vendors/{erp.id}/contacts", json={
        "level": 2, "kind": "external", "name": "Priya", "phone": "+1 415 555 0163", "time_zone": "America/Chicago"})
    assert added.status_code == 201 and added.get_json()["phone"] == "+14155550163"
    confirmed = editor.post(f"/api/v1/vendor-contacts/{erp.contacts[0].id}/confirm")
    assert confirmed.status_code == 200 and confirmed.get_json()["confirmed_by"] == "Casey Crisis"
    ladder = editor.get(f"/api/v1/vendors/{erp.id}/ladder").get_json()
    assert [(level["number"], [(c["name"], c["state"]) for c in level["contacts"]]) for level in ladder["levels"]] == \
        [(1, [("Dana Desk", "confirmed")]), (2, [("Marcus Lee", "never"), ("Priya", "never")])]
    assert ladder["levels"][0]["contacts"][0]["last_confirmed_by"] == "Casey Crisis"


def test_contacts_and_levels_change_through_the_api(editor, erp):
    dana = erp.contacts[0]
    moved = editor.patch(f"/api/v1/vendor-contacts/{dana.id}", json={"level": 2, "role": "Night desk"})
    assert moved.status_code == 200
    assert (moved.get_json()["level"], moved.get_json()["role"], moved.get_json()["phone"]) == \
        (2, "Night desk", "+12125550142")
    renamed = editor.patch(f"/api/v1/vendor-levels/{erp.levels[0].id}", json={"label": "Portal"})
    assert renamed.get_json()["label"] == "Portal" and renamed.get_json()["when_to_use"] == ""
    assert editor.delete(f"/api/v1/vendor-levels/{erp.levels[1].id}").status_code == 409  # still has contacts
    ladder = editor.delete(f"/api/v1/vendor-levels/{erp.levels[0].id}").get_json()
    assert [(level["number"], level["label"]) for level in ladder["levels"]] == [(1, "Rung 2")]
    assert editor.post(f"/api/v1/vendors/{erp.id}/levels", json={"label": "Exec"}).get_json()["number"] == 2
    assert editor.delete(f"/api/v1/vendor-contacts/{dana.id}").status_code == 200


def test_checks_and_campaign_progress(editor, erp, make_vendor):
    make_vendor(name="Printer", tier="other")
    assert editor.post(f"/api/v1/vendors/{erp.id}/checks", json={"check": "plan"}).get_json()["done_by"] == \
        "Casey Crisis"
    assert editor.post(f"/api/v1/vendors/{erp.id}/checks", json={"check": "maybe"}).status_code == 422
    body = editor.get("/api/v1/vendors/campaign").get_json()
    assert [row["name"] for row in body["vendors"]] == ["Orbis ERP"]
    [row] = body["vendors"]
    assert row["checks"]["plan"]["by"] == "Casey Crisis" and row["checks"]["list"] is None
    assert row["contacts"] == {"confirmed": 0, "stale": 0, "never": 2} and body["totals"]["percent"] == 0


def test_import_is_a_dry_run_until_confirmed(editor, erp):
    text = csvio.export_csv("contacts").replace("Dana Desk", "Dana Whitfield")
    dry = editor.post("/api/v1/vendors/import", json={"kind": "contacts", "csv": text})
    assert dry.status_code == 200
    assert (dry.get_json()["applied"], dry.get_json()["counts"]["update"]) == (False, 1)
    assert db.session.get(VendorContact, erp.contacts[0].id).name == "Dana Desk"
    applied = editor.post("/api/v1/vendors/import", json={"kind": "contacts", "csv": text, "confirm": True})
    assert applied.status_code == 200 and applied.get_json()["applied"] is True
    db.session.expire_all()
    assert db.session.get(VendorContact, erp.contacts[0].id).name == "Dana Whitfield"


def test_an_import_with_errors_is_a_422_listing_them_and_changes_nothing(editor, erp):
    text = "name,tier\nNew,critical\nOther,sometimes\n"
    response = editor.post("/api/v1/vendors/import", json={"kind": "vendors", "csv": text, "confirm": True})
    assert response.status_code == 422
    body = response.get_json()
    assert body["applied"] is False and body["errors"] == 1
    assert body["rows"][1] == {"line": 3, "action": "error", "id": None, "label": "Other",
                               "errors": {"tier": "Choose critical, important or other."}}
    assert count(Vendor) == 1
    bad_file = editor.post("/api/v1/vendors/import", json={"kind": "vendors", "csv": "colour\nred\n"})
    assert bad_file.status_code == 422 and "Unknown column" in bad_file.get_json()["fields"]["file"]


def test_export_and_search(api_as, erp):
    reader = api_as("responder")
    exported = reader.get("/api/v1/vendors/export?kind=contacts").get_json()
    assert exported["csv"] == csvio.export_csv("contacts")
    assert reader.get("/api/v1/vendors/export?kind=cats").status_code == 422
    found = reader.get("/api/v1/search?q=dana").get_json()
    [group] = found["groups"]
    assert group["name"] == "contacts"
    assert group["results"][0]["phones"] == [{"label": "Phone", "number": "+12125550142"}]
    assert reader.get("/api/v1/search").get_json()["groups"] == []
