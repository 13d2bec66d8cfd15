""""Who do I call?" search and the vCard download of a vendor's contacts."""
from __future__ import annotations

import pytest

from app.vendors import search
from app.vendors.vcard import escape, fold, vendor_vcards


@pytest.fixture
def erp(make_vendor, make_contact):
    vendor = make_vendor(levels=2, name="Orbis", supports="ERP: order to cash; close journals")
    make_contact(vendor, level=1, name="Dana Whitfield", role="Duty manager", phone="+12125550142",
                 email="dana@orbis.example")
    make_contact(vendor, level=2, name="Marcus Lee", role="Escalation manager", mobile="+19175550123")
    other = make_vendor(levels=1, name="Clearwave CRM", supports="CRM and bookings")
    make_contact(other, name="Erpina Stone", role="Account manager", email="erpina@clearwave.example")
    make_contact(other, name="Ed Jones", role="Enterprise architect", email="ed@erp-consulting.example")
    return vendor


def titles(groups) -> dict[str, list[str]]:
    return {group.name: [result.title for result in group.results] for group in groups}


def test_erp_finds_the_vendor_by_what_it_supports_and_words_starting_with_it(app, erp):
    # "Enterprise architect" holds "erp" inside a word, and an email address is not a name: neither matches.
    with app.test_request_context():
        groups = search.search_everything("erp")
    assert titles(groups) == {"vendors": ["Orbis"], "contacts": ["Erpina Stone"]}
    assert groups[0].results[0].url == f"/vendors/{erp.id}"


def test_contacts_come_with_their_vendor_level_and_numbers_to_tap(app, erp):
    with app.test_request_context():
        [group] = search.search_everything("  marcus ")
    [result] = group.results
    assert result.detail == "Escalation manager · Orbis · Level 2 · Rung 2"
    assert result.phones == (("Mobile", "+19175550123", "+1 917-555-0123"),)
    assert result.url == f"/vendors/{erp.id}#contact-{erp.levels[1].contacts[0].id}"


@pytest.mark.parametrize("query", ["", "e", "%", "zzz"])
def test_short_unknown_or_wildcard_queries_find_nothing(app, erp, query):
    with app.test_request_context():
        assert search.search_everything(query) == []


def test_another_domain_adds_its_results_through_the_registry(app, erp, monkeypatch):
    monkeypatch.setattr(search, "_PROVIDERS", dict(search._PROVIDERS))  # leave the real registry as it was

    def find_apps(query: str, limit: int) -> list[search.SearchResult]:
        return [search.SearchResult(title="ERP order intake", detail="app", url="/apps/1")][:limit]

    search.register_search_provider("apps", "Apps", find_apps, order=20)
    with app.test_request_context():
        groups = search.search_everything("erp")
    assert [(group.name, group.heading) for group in groups] == [("vendors", "Vendors"), ("apps", "Apps"),
                                                                 ("contacts", "Escalation contacts")]


@pytest.mark.parametrize("raw, escaped", [
    ("Smith, Jones; Co", "Smith\\, Jones\\; Co"), ("back\\slash", "back\\\\slash"), ("two\r\nlines", "two\\nlines"),
])
def test_vcard_text_is_escaped(raw, escaped):
    assert escape(raw) == escaped


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    line = "NOTE:" + "é" * 100
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode("utf-8")) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join(part[1:] if index else part for index, part in enumerate(parts)) == line


def test_a_vendors_vcard_has_one_card_per_contact_with_phones_and_email(erp, make_contact):
    make_contact(erp, level=1, name="Ops, Night; Desk", phone="+442079460958", notes="Ask for\nthe duty lead")
    text = vendor_vcards(erp)
    assert text.count("BEGIN:VCARD") == 3 and text.count("END:VCARD") == 3
    assert all(line.endswith("\r") or not line for line in text.split("\n"))  # CRLF everywhere
    unfolded = text.replace("\r\n ", "")
    assert "FN:Dana Whitfield\r\n" in unfolded and "N:Whitfield;Dana;;;\r\n" in unfolded
    assert "TEL;TYPE=WORK,VOICE:+12125550142\r\n" in unfolded
    assert "TEL;TYPE=CELL,VOICE:+19175550123\r\n" in unfolded
    assert "EMAIL;TYPE=INTERNET:dana@orbis.example\r\n" in unfolded
    assert "FN:Ops\\, Night\\; Desk\r\n" in unfolded
    assert "ORG:Orbis;Level 2 · Rung 2\r\n" in unfolded
    assert "Ask for\\nthe duty lead" in unfolded
    assert "VERSION:3.0\r\n" in unfolded
