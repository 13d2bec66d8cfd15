"""Linking a risk by name: the picker's search across apps, jobs and vendors, and the link form that takes what
the picker chose or, without JavaScript, a typed label or name."""
from __future__ import annotations

import pytest

from app.vendors import services as vendors
from app.watchlist import services as watchlist
from tests.conftest import form_post
from tests.runbooks.support import make_job


def targets(client, query: str):
    response = client.get("/risks/link-targets", query_string={"q": query})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["targets"]


@pytest.fixture
def billing(app):
    """An app, two jobs and a vendor whose names contain "bil", and one that does not."""
    run = make_job("Billing", "Billing run")
    export = make_job("ERP", "Nightly billing export")
    vendor = vendors.create_vendor(name="Billington Cloud", tier="critical")
    make_job("ERP", "Payroll")
    return {"app": watchlist.find_app_by_name("Billing"), "run": run, "export": export, "vendor": vendor}


def test_the_search_finds_apps_jobs_and_vendors_by_part_of_the_name_ignoring_case(billing, login_as):
    client = login_as("crisis_team")
    assert targets(client, "BIL") == [
        {"kind": "app", "id": billing["app"].id, "label": "App · Billing"},
        {"kind": "job", "id": billing["run"].id, "label": "Job · Billing run (Billing)"},
        {"kind": "vendor", "id": billing["vendor"].id, "label": "Vendor · Billington Cloud"},
        {"kind": "job", "id": billing["export"].id, "label": "Job · Nightly billing export (ERP)"},
    ]
    assert [t["label"] for t in targets(client, "  g EXP ")] == ["Job · Nightly billing export (ERP)"]
    assert targets(client, "") == [] and targets(client, "   ") == []
    assert targets(client, "%") == [] and targets(client, "_") == []  # wildcards are letters, not patterns


def test_the_search_answers_the_first_twenty_by_name_and_refuses_a_long_query(app, login_as):
    for number in range(25):
        make_job("Warehouse", f"Load {number:02d}")
    client = login_as("crisis_team")
    found = targets(client, "load")
    assert len(found) == 20 and found[0]["label"] == "Job · Load 00 (Warehouse)" and found[-1]["label"].startswith(
        "Job · Load 19")
    too_long = client.get("/risks/link-targets", query_string={"q": "x" * 101})
    assert too_long.status_code == 400 and "q" in too_long.get_json()["fields"]
    refused = client.get("/risks/link-targets?q=lo%00ad")  # the request guard refuses NUL, naming the field
    assert refused.status_code == 422 and "a NUL character" in refused.get_data(as_text=True)


@pytest.mark.parametrize("role", ["responder", "executive", "admin"])
def test_everyone_who_reads_risks_may_search_and_nobody_signed_out(billing, login_as, role, client):
    assert client.get("/risks/link-targets?q=bil").status_code in (302, 401)
    assert len(targets(login_as(role), "bil")) == 4


def test_a_target_chosen_in_the_picker_is_linked_by_its_kind_and_id(billing, login_as, make_risk):
    risk = make_risk()
    client = login_as("crisis_team")
    page = client.get(f"/risks/{risk.id}").get_data(as_text=True)
    assert 'list="link-targets"' in page and 'data-search="/risks/link-targets"' in page
    assert "js/link-picker.js" in page and "<select id=\"link-target\"" not in page

    (chosen,) = [t for t in targets(client, "billing run")]
    linked = form_post(client, f"/risks/{risk.id}/links",
                       {"target": chosen["label"], "kind": chosen["kind"], "target_id": chosen["id"]},
                       page_url=f"/risks/{risk.id}")
    assert linked.status_code == 302
    assert f'<a href="/watchlist/jobs/{billing["run"].id}">Billing run</a>' in \
        client.get(f"/risks/{risk.id}").get_data(as_text=True)
    hostile_ids = form_post(client, f"/risks/{risk.id}/links",  # ids the database cannot hold: the label decides
                            {"target": "Vendor · Billington Cloud", "kind": "job", "target_id": "9" * 30},
                            page_url=f"/risks/{risk.id}")
    assert hostile_ids.status_code == 302 and {link.kind for link in risk.links} == {"job", "vendor"}
    again = form_post(client, f"/risks/{risk.id}/links",
                      {"target": chosen["label"], "kind": chosen["kind"], "target_id": chosen["id"]},
                      page_url=f"/risks/{risk.id}")
    assert again.status_code == 422 and "already linked" in _target_error(again)


@pytest.mark.parametrize("typed", ["Job · Billing run (Billing)", "job · billing  run (billing)", "Billing run",
                                   "Job · Billing run", "Billing run (Billing)"])
def test_without_javascript_a_typed_label_or_unique_name_links_the_one_it_names(billing, login_as, make_risk, typed):
    risk = make_risk()
    client = login_as("crisis_team")
    linked = form_post(client, f"/risks/{risk.id}/links", {"target": typed}, page_url=f"/risks/{risk.id}")
    assert linked.status_code == 302, _target_error(linked)
    assert [(link.kind, link.target_id) for link in risk.links] == [("job", billing["run"].id)]


def test_an_unknown_or_ambiguous_name_is_a_form_error_on_the_field(billing, login_as, make_risk):
    make_job("Billing", "Nightly load")
    make_job("ERP", "Nightly load")
    risk = make_risk()
    client = login_as("crisis_team")
    post = lambda typed: form_post(client, f"/risks/{risk.id}/links", {"target": typed},  # noqa: E731
                                   page_url=f"/risks/{risk.id}")
    ambiguous = post("nightly load")
    assert ambiguous.status_code == 422
    assert _target_error(ambiguous) == ("Several are called “nightly load”: Job · Nightly load (Billing); "
                                        "Job · Nightly load (ERP). Type the whole label or choose from the list.")
    assert 'aria-invalid="true"' in ambiguous.get_data(as_text=True)
    unknown = post("Job · Billington Cloud")  # a vendor's name under the wrong kind names nothing
    assert unknown.status_code == 422 and _target_error(unknown).startswith("Nothing to link is called")
    empty = post("")
    assert empty.status_code == 422 and _target_error(empty) == "Type part of a name and choose from the list."
    assert risk.links == []
    assert post("Job · Nightly load (ERP)").status_code == 302


def _target_error(response) -> str:
    page = response.get_data(as_text=True)
    start = page.index('<p id="target-error" class="error">') + len('<p id="target-error" class="error">')
    return page[start:page.index("</p>", start)]
