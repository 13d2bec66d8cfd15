"""Vendor pages by role: the card with tap-to-call links, search from the top bar, one-click confirmation,
forms that show the refusal next to the field, CSV import with a dry run, vCard and CSV downloads."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.vendors import vendor_csv as csvio
from app.vendors.models import Vendor, VendorContact, VendorContactConfirmation
from tests.conftest import form_post
from tests.support import pager_link


def text_of(response) -> str:
    return response.get_data(as_text=True)


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p id="{re.escape(field_id)}-error" class="error">([^<]*)</p>', html)
    return match.group(1) if match else ""


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def erp(make_vendor, make_contact):
    vendor = make_vendor(levels=2, name="Orbis ERP", supports="ERP: order to cash")
    make_contact(vendor, level=1, name="Dana Desk", phone="+12125550142", email="dana@orbis.example")
    make_contact(vendor, level=2, name="Marcus Lee", mobile="+19175550123")
    return vendor


@pytest.mark.parametrize("role", ["responder", "executive", "crisis_team", "admin"])
def test_everyone_reads_the_vendor_card_with_tap_to_call_links(login_as, erp, role):
    client = login_as(role)
    page = text_of(client.get(f"/vendors/{erp.id}"))
    assert 'href="tel:+12125550142"' in page and 'href="tel:+19175550123"' in page
    assert 'href="mailto:dana@orbis.example"' in page
    assert 'data-testid="level-1"' in page and 'data-testid="level-2"' in page
    assert page.count('data-state="never"') == 2
    editor = role in ("crisis_team", "admin")
    assert ("Confirm</button>" in page) is editor and ("Edit vendor" in page) is editor
    assert "Orbis ERP" in text_of(client.get("/vendors")) and client.get("/vendors/campaign").status_code == 200


def test_every_page_has_the_search_box_and_the_vendors_link(login_as):
    page = text_of(login_as("executive").get("/"))
    assert 'role="search"' in page and 'action="/search"' in page and 'name="q"' in page
    assert '<a href="/vendors"' in page


def test_search_finds_the_vendor_and_its_page_opens(login_as, erp):
    client = login_as("responder")
    results = text_of(client.get("/search?q=ERP"))
    assert f'href="/vendors/{erp.id}"' in results and "Orbis ERP" in results
    dana = text_of(client.get("/search?q=dana"))
    assert 'href="tel:+12125550142"' in dana
    assert "Nothing matches" in text_of(client.get("/search?q=nope"))
    assert "Type a vendor" in text_of(client.get("/search"))


def test_readers_cannot_change_vendors(login_as, erp):
    client = login_as("responder")
    assert client.get("/vendors/new").status_code == 403
    card = f"/vendors/{erp.id}"
    assert form_post(client, f"{card}/delete", {}, card).status_code == 403
    contact = erp.contacts[0]
    assert form_post(client, f"/vendor-contacts/{contact.id}/confirm", {}, card).status_code == 403
    assert count(VendorContactConfirmation) == 0


def test_the_crisis_team_creates_a_vendor_and_builds_its_ladder(login_as, make_user):
    client = login_as("crisis_team")
    created = form_post(client, "/vendors/new", {"name": "Levy Tax", "tier": "critical", "support_zone": "UTC",
                                                 "owner_id": str(client.user.id), "sla_p1_minutes": "60"})
    assert created.status_code == 302
    vendor = db.session.scalar(select(Vendor))
    assert vendor.owner_id == client.user.id and vendor.sla_p1_minutes == 60
    card = f"/vendors/{vendor.id}"
    assert form_post(client, f"{card}/levels", {"label": "Support", "when_to_use": "First"}, card).status_code == 302
    added = form_post(client, f"{card}/contacts/new", {"level": "1", "kind": "external", "name": "Sam",
                                                       "phone": "+1 312 555 0161", "time_zone": "America/Chicago"})
    assert added.status_code == 302 and added.headers["Location"].endswith("#contact-%d" % db.session.scalar(
        select(VendorContact.id)))
    assert 'href="tel:+13125550161"' in text_of(client.get(card))


def test_an_invalid_phone_is_shown_next_to_the_field(login_as, erp):
    client = login_as("crisis_team")
    response = form_post(client, f"/vendors/{erp.id}/contacts/new", {"level": "1", "kind": "external",
                                                                      "name": "Bad", "phone": "+1 212 555",
                                                                      "time_zone": "UTC"})
    assert response.status_code == 422
    assert field_error(text_of(response), "phone") == "This number is too short for US (+1)."
    assert count(VendorContact) == 2


def test_a_taken_name_is_shown_next_to_the_name(login_as, erp):
    response = form_post(login_as("admin"), "/vendors/new", {"name": "orbis erp", "tier": "other",
                                                              "support_zone": "UTC"})
    assert response.status_code == 422 and "already exists" in field_error(text_of(response), "name")


def test_one_click_confirm_on_the_campaign_page_moves_the_progress(login_as, erp):
    client = login_as("crisis_team", name="Casey Crisis")
    before = text_of(client.get("/vendors/campaign"))
    assert re.search(r'data-testid="contacts-confirmed">0<', before)
    contact = erp.contacts[1]
    done = form_post(client, f"/vendor-contacts/{contact.id}/confirm", {"back": "campaign"}, "/vendors/campaign")
    assert done.status_code == 302 and done.headers["Location"] == f"/vendors/campaign#vendor-{erp.id}"
    after = text_of(client.get("/vendors/campaign"))
    assert re.search(r'data-testid="contacts-confirmed">1<', after)
    assert f'data-testid="pending-{contact.id}"' not in after
    assert "confirmed for Q" in after and "by Casey Crisis" in after
    card = text_of(client.get(f"/vendors/{erp.id}"))
    assert card.count('data-state="confirmed"') == 1 and "by Casey Crisis" in card


def test_vendor_checks_are_recorded_from_the_vendor_card(login_as, erp):
    client = login_as("crisis_team")
    for check in ("list", "plan"):
        assert form_post(client, f"/vendors/{erp.id}/checks", {"check": check}, f"/vendors/{erp.id}").status_code == 302
    card = text_of(client.get(f"/vendors/{erp.id}"))
    assert card.count('pill green">done') == 2


def test_a_confirm_without_its_csrf_token_is_refused(login_as, erp):
    client = login_as("crisis_team")
    assert client.post(f"/vendor-contacts/{erp.contacts[0].id}/confirm").status_code == 400
    assert count(VendorContactConfirmation) == 0


def test_the_vcard_and_csv_downloads(login_as, erp):
    client = login_as("executive")
    card = client.get(f"/vendors/{erp.id}/contacts.vcf")
    assert card.mimetype == "text/vcard"
    assert card.headers["Content-Disposition"] == 'attachment; filename="orbis-erp-contacts.vcf"'
    assert text_of(card).count("BEGIN:VCARD") == 2
    export = client.get("/vendors/export.csv?kind=contacts")
    assert export.mimetype == "text/csv" and text_of(export) == csvio.export_csv("contacts")


def test_the_import_page_checks_first_then_applies_when_confirmed(login_as, erp):
    client = login_as("crisis_team")
    page = client.get("/vendors/import")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text_of(page)).group(1)
    text = csvio.export_csv("vendors").replace("ERP: order to cash", "ERP and billing")
    checked = client.post("/vendors/import", data={"csrf_token": token, "kind": "vendors", "step": "check",
                                                   "file": (io.BytesIO(text.encode()), "vendors.csv")},
                          content_type="multipart/form-data")
    html = text_of(checked)
    assert checked.status_code == 200 and "1 to update" in html and "Apply these changes" in html
    assert db.session.get(Vendor, erp.id).supports == "ERP: order to cash"
    carried = re.search(r'name="csv_text" value="([^"]+)"', html).group(1)
    applied = client.post("/vendors/import", data={"csrf_token": token, "kind": "vendors", "step": "apply",
                                                   "csv_text": carried})
    assert applied.status_code == 302
    db.session.expire_all()
    assert db.session.get(Vendor, erp.id).supports == "ERP and billing"


def test_an_import_with_a_bad_row_lists_it_and_offers_no_apply(login_as, erp):
    client = login_as("admin")
    page = text_of(client.get("/vendors/import"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    text = f"id,name,tier\n{erp.id},Orbis ERP,critical\n,New One,vital\n"
    checked = client.post("/vendors/import", data={"csrf_token": token, "kind": "vendors", "step": "check",
                                                   "file": (io.BytesIO(text.encode()), "vendors.csv")},
                          content_type="multipart/form-data")
    html = text_of(checked)
    assert checked.status_code == 422 and "tier: Choose critical, important or other." in html
    assert "Apply these changes" not in html and "Nothing was changed" in html
    assert count(Vendor) == 1


def test_empty_states_and_pages(login_as, make_vendor):
    client = login_as("crisis_team")
    assert "No vendors yet" in text_of(client.get("/vendors"))
    assert "No critical or important vendors yet" in text_of(client.get("/vendors/campaign"))
    for number in range(3):
        make_vendor(name=f"Vendor {number}")
    first = text_of(client.get("/vendors?per_page=2"))
    paged = text_of(client.get(pager_link(first, "next")))
    assert "Showing 1 vendor" in paged and "Vendor 2" in paged and "Vendor 0" not in paged
    assert "No vendor matches" in text_of(client.get("/vendors?q=zzz"))
