"""The contract-expiry flag where people see it: the pill on the vendor page and in the list, and the API field.

On Monday 23 November 2026 the quarter is Q4 FY27, whose last day is Sunday 31 January 2027.
"""
from __future__ import annotations

import re
from datetime import date

import pytest

from tests.vendors.conftest import IN_Q1_FY28, IN_Q4_FY27

PILL = '<span class="pill red" data-testid="contract-flag">'


@pytest.fixture
def contracts(make_vendor):
    """One vendor per side of the quarter's close, one already expired and one without a date."""
    return {
        "Ends on the last day": make_vendor(name="Ends on the last day", contract_expires=date(2027, 1, 31)),
        "Ends after close": make_vendor(name="Ends after close", contract_expires=date(2027, 2, 1)),
        "Ended yesterday": make_vendor(name="Ended yesterday", contract_expires=date(2026, 11, 22)),
        "No contract date": make_vendor(name="No contract date"),
    }


def pill_of(html: str) -> str | None:
    match = re.search(re.escape(PILL) + r"([^<]+)</span>", html)
    return match.group(1) if match else None


def test_the_vendor_page_flags_a_contract_ending_before_the_quarter_closes_and_not_one_ending_after(
        contracts, login_as, at):
    with at(IN_Q4_FY27):
        client = login_as("responder")
        pages = {name: client.get(f"/vendors/{vendor.id}").get_data(as_text=True)
                 for name, vendor in contracts.items()}
    assert {name: pill_of(page[page.index('class="vendor-head"'):]) for name, page in pages.items()} == {
        "Ends on the last day": "contract expires before quarter close",
        "Ends after close": None,
        "Ended yesterday": "contract expired",
        "No contract date": None,
    }


def test_the_vendor_list_shows_the_pill_on_each_flagged_row(contracts, login_as, at):
    with at(IN_Q4_FY27):
        page = login_as("executive").get("/vendors").get_data(as_text=True)
    table = page[page.index('data-testid="vendors"'):page.index("</table>")]
    rows = {re.search(r'<a href="/vendors/\d+">([^<]+)</a>', row).group(1): pill_of(row)
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]}
    assert rows == {
        "Ends on the last day": "contract expires before quarter close",
        "Ends after close": None,
        "Ended yesterday": "contract expired",
        "No contract date": None,
    }


def test_the_api_says_which_contracts_end_before_the_quarter_closes(contracts, api_as, at):
    expected = {"Ends on the last day": "expires_before_close", "Ends after close": None,
                "Ended yesterday": "expired", "No contract date": None}
    with at(IN_Q4_FY27):
        reader = api_as("responder")
        one_by_one = {name: reader.get(f"/api/v1/vendors/{vendor.id}").get_json()["contract_flag"]
                      for name, vendor in contracts.items()}
        listed = reader.get("/api/v1/vendors").get_json()["items"]
    assert one_by_one == expected
    assert {item["name"]: item["contract_flag"] for item in listed} == expected


def test_the_same_contract_is_not_flagged_once_the_next_quarter_ends_after_it(make_vendor, api_as, login_as, at):
    # Ends 20 April 2027: after Q4 FY27 closes, but inside Q1 FY28 (February to April).
    vendor = make_vendor(name="Renews in spring", contract_expires=date(2027, 4, 20))
    with at(IN_Q4_FY27):
        before = api_as("responder").get(f"/api/v1/vendors/{vendor.id}").get_json()["contract_flag"]
    with at(IN_Q1_FY28):
        after = api_as("responder").get(f"/api/v1/vendors/{vendor.id}").get_json()["contract_flag"]
        page = login_as("responder").get(f"/vendors/{vendor.id}").get_data(as_text=True)
    assert (before, after) == (None, "expires_before_close")
    assert pill_of(page) == "contract expires before quarter close"
