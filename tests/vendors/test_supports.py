"""What a vendor supports, linked to the watch list's apps and jobs: on the vendor card, in the API, validated."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, Invalid
from app.extensions import db
from app.vendors import supports
from app.vendors.models import VendorSupportLink
from app.watchlist import services as watchlist
from tests.conftest import csrf_token_from


@pytest.fixture
def erp_app(app):
    return watchlist.save_app(None, name="ERP")


def link_count() -> int:
    return db.session.scalar(select(func.count()).select_from(VendorSupportLink))


def test_a_vendor_is_linked_to_an_app_and_a_job_once_each(make_vendor, erp_app):
    vendor = make_vendor(name="Oracle")
    job = watchlist.save_job(None, app_id=erp_app.id, name="Nightly billing", schedule_kind="cron",
                             cron_expr="0 2 * * *", time_zone="UTC", grace_minutes=15, max_duration_minutes=30)

    supports.add_support_link(vendor, kind="app", target_id=erp_app.id)
    supports.add_support_link(vendor, kind="job", target_id=job.id)

    assert [(link.kind, link.label) for link in vendor.support_links] == [("app", "ERP"), ("job", "Nightly billing")]
    with pytest.raises(Conflict) as twice:
        supports.add_support_link(vendor, kind="app", target_id=erp_app.id)
    assert twice.value.field == "target_id"


@pytest.mark.parametrize(("kind", "target", "field"), [("app", 999999, "target_id"), ("job", None, "target_id"),
                                                       ("vendor", 1, "kind")])
def test_a_link_to_nothing_is_refused_naming_the_field(make_vendor, erp_app, kind, target, field):
    with pytest.raises(Invalid) as refused:
        supports.add_support_link(make_vendor(), kind=kind, target_id=target)
    assert refused.value.field == field
    assert link_count() == 0


def test_the_vendor_card_shows_linked_apps_and_an_editor_links_one(login_as, make_vendor, erp_app):
    vendor = make_vendor(name="Oracle")
    editor = login_as("crisis_team")
    page = editor.get(f"/vendors/{vendor.id}").get_data(as_text=True)
    assert f'<option value="app:{erp_app.id}">App: ERP</option>' in page

    response = editor.post(f"/vendors/{vendor.id}/supports", data={"target": f"app:{erp_app.id}",
                                                                   "csrf_token": csrf_token_from(page)},
                           follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "Oracle supports app ERP." in html
    assert f'<a href="/watchlist/apps/{erp_app.id}">ERP</a>' in html
    responder_view = login_as("responder").get(f"/vendors/{vendor.id}").get_data(as_text=True)
    assert f'<a href="/watchlist/apps/{erp_app.id}">ERP</a>' in responder_view  # everyone sees what it supports
    assert "supports-heading" not in responder_view  # ... only editors change it


def test_a_bad_choice_on_the_page_is_a_message_not_an_error(login_as, make_vendor):
    vendor = make_vendor()
    editor = login_as("crisis_team")
    page = editor.get(f"/vendors/{vendor.id}").get_data(as_text=True)
    response = editor.post(f"/vendors/{vendor.id}/supports", data={"target": "app:abc",
                                                                   "csrf_token": csrf_token_from(page)},
                           follow_redirects=True)
    assert response.status_code == 200 and "Choose an app or a job." in response.get_data(as_text=True)
    assert link_count() == 0


def test_links_through_the_api(api_as, make_vendor, erp_app):
    vendor = make_vendor()
    editor = api_as("crisis_team")

    created = editor.post(f"/api/v1/vendors/{vendor.id}/supports", json={"kind": "app", "target_id": erp_app.id})
    assert created.status_code == 201
    [link] = created.json["support_links"]
    assert (link["kind"], link["target_id"], link["label"]) == ("app", erp_app.id, "ERP")
    assert api_as("executive").get(f"/api/v1/vendors/{vendor.id}").json["support_links"] == [link]
    assert api_as("responder").post(f"/api/v1/vendors/{vendor.id}/supports",
                                    json={"kind": "app", "target_id": erp_app.id}).status_code == 403
    missing = editor.post(f"/api/v1/vendors/{vendor.id}/supports", json={"kind": "app", "target_id": 999999})
    assert missing.status_code == 422 and "target_id" in missing.json["fields"]

    removed = editor.delete(f"/api/v1/vendors/{vendor.id}/supports/{link['id']}")
    assert removed.status_code == 200 and removed.json["support_links"] == []
    assert editor.delete(f"/api/v1/vendors/{vendor.id}/supports/{link['id']}").status_code == 404


def test_the_demo_vendors_are_linked_to_the_demo_apps_they_support(app):
    from app.seed import seed_demo
    from app.vendors.services import find_vendor_by_name

    seed_demo()

    erp = find_vendor_by_name("Orbis ERP")
    assert [(link.kind, link.label) for link in erp.support_links] == [("app", "Billing"), ("app", "ERP")]
    assert erp.support_links[1].target_id == supports.find_target("app", "ERP")


def test_a_vendor_named_for_the_query_comes_before_those_that_only_support_it(app, make_vendor):
    from app.vendors.search import search_everything
    make_vendor(name="Nimbus Cloud", supports="Hosting for the ERP and the DR site")
    make_vendor(name="Orbis ERP", supports="Order to cash")
    make_vendor(name="ERPNext partner", supports="")
    with app.test_request_context():
        [vendors] = [group for group in search_everything("erp") if group.name == "vendors"]
    assert [result.title for result in vendors.results] == ["ERPNext partner", "Orbis ERP", "Nimbus Cloud"]
