"""Links people store: only http(s) URLs or same-site paths are accepted; anything stored before that fails the
rule is shown as text (DR evidence links: tests/drtests/test_evidence_links.py)."""
from __future__ import annotations

import pytest

from app.auth.roles import Role
from app.errors import Invalid
from app.extensions import db
from app.links import clean_link, is_safe_link
from app.vendors import services as vendors
from app.watchlist import services as watchlist
from app.watchlist.models import WatchedApp


@pytest.mark.parametrize("value", ["https://wiki.example.com/erp", "http://10.0.0.5:8080/x?y=1", "/runbooks/erp.md",
                                   "/watchlist/apps/3", "HTTPS://Example.com"])
def test_web_addresses_and_same_site_paths_are_links(value):
    assert is_safe_link(value)


@pytest.mark.parametrize("value", ["//evil.example", "/\\evil.example", "javascript:alert(1)", "data:text/html,x",
                                   "https://", "ftp://files.example.com", "wiki.example.com", "https://a b.example",
                                   "https://evil.example\\@good.example", " https://x.example", "", None, 42])
def test_anything_else_is_not_a_link(value):
    assert not is_safe_link(value)


def test_a_refused_link_names_its_field():
    with pytest.raises(Invalid) as refused:
        clean_link("//evil.example", "runbook_url", 500)
    assert refused.value.field == "runbook_url"
    assert clean_link("  /runbooks/x.md ", "runbook_url", 500) == "/runbooks/x.md"


@pytest.mark.parametrize("url", ["//evil.example", "javascript:alert(1)", "/\\evil.example"])
def test_a_watch_list_runbook_link_to_another_site_in_disguise_is_refused(app, url):
    with pytest.raises(Invalid) as refused:
        watchlist.save_app(None, name="ERP", runbook_url=url)
    assert refused.value.field == "runbook_url"


def test_a_vendor_portal_may_be_a_same_site_path_but_not_a_protocol_relative_url(app):
    vendor = vendors.create_vendor(name="Orbis ERP", tier="critical")
    with pytest.raises(Invalid, match="single /"):
        vendors.update_vendor(vendor, **{**vendors.vendor_fields(vendor), "portal_url": "//evil.example"})


def test_a_stored_link_that_fails_the_rule_is_shown_as_text(app, login_as):
    erp = WatchedApp(name="ERP", runbook_url="//evil.example/runbook")  # stored before the rule existed
    db.session.add(erp)
    vendor = vendors.create_vendor(name="Orbis ERP", tier="critical")
    vendor.portal_url = "javascript:alert(1)"
    db.session.commit()
    client = login_as(Role.RESPONDER)

    app_page = client.get(f"/watchlist/apps/{erp.id}").get_data(as_text=True)
    vendor_page = client.get(f"/vendors/{vendor.id}").get_data(as_text=True)

    assert 'href="//evil.example/runbook"' not in app_page and "<code>//evil.example/runbook</code>" in app_page
    assert 'href="javascript:alert(1)"' not in vendor_page and "javascript:alert(1)" in vendor_page
