"""The vendor list and the campaign page are paged by keyset: critical first, then by name, every vendor once,
in order, both ways, with the filters kept."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.vendors import campaign, ladder
from app.vendors import services as vendors
from app.vendors.models import Vendor
from tests.conftest import count_queries
from tests.support import pager_link, walk_pages

TIERS = ["other", "critical", "important"]


def listed(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<td><a href="/vendors/(\d+)">', html)]


def campaign_listed(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-testid="campaign-vendor-(\d+)"', html)]


def many_vendors(count: int, *, start: int = 0, levels: bool = False) -> None:
    """`count` vendors over the three tiers, every fifth supporting billing; `levels` gives each a ladder rung."""
    for number in range(start, start + count):
        vendor = vendors.create_vendor(name=f"Vendor {number:03d}", tier=TIERS[number % 3],
                                       supports="billing" if number % 5 == 0 else "payroll")
        if levels:
            ladder.add_level(vendor, label="Desk")
            ladder.create_contact(vendor, level=1, kind="external", name=f"Desk {number}",
                                  phone=f"+1415555{number:04d}")


def ids(query) -> list[int]:
    return [vendor.id for vendor in db.session.scalars(query)]


def test_walking_the_vendors_shows_each_once_critical_first(app, login_as):
    many_vendors(17)

    forward, backward = walk_pages(login_as("executive"), "/vendors?per_page=4", listed)

    want = ids(vendors.vendors_query())
    assert len(want) == 17 and forward == want and backward == want
    assert db.session.get(Vendor, forward[0]).tier.value == "critical"


@pytest.mark.parametrize("query, filters", [("tier=important", {"tier": "important"}),
                                            ("q=billing", {"q": "billing"})])
def test_the_vendor_filters_are_kept_by_every_page(app, login_as, query, filters):
    many_vendors(31)

    forward, backward = walk_pages(login_as("executive"), f"/vendors?per_page=2&{query}", listed)

    want = ids(vendors.vendors_query(**filters))
    assert len(want) >= 5 and forward == want and backward == want


def test_walking_the_campaign_shows_each_critical_and_important_vendor_once(app, login_as):
    many_vendors(14)

    forward, backward = walk_pages(login_as("executive"), "/vendors/campaign?per_page=3", campaign_listed)

    want = ids(campaign.campaign_vendors_query())
    assert len(want) == 9 and forward == want and backward == want


@pytest.mark.parametrize("cursor", ["garbage", "WzEsIngiXQ", "WyJ4IiwiVmVuZG9yIiwxXQ", "A" * 3000])
def test_a_cursor_the_lists_did_not_write_shows_their_first_page(app, login_as, cursor):
    many_vendors(8)
    client = login_as("executive")
    for url, read in (("/vendors", listed), ("/vendors/campaign", campaign_listed)):
        first = read(client.get(url, query_string={"per_page": 3}).get_data(as_text=True))
        for name in ("after", "before"):
            answer = client.get(url, query_string={"per_page": 3, name: cursor})
            assert answer.status_code == 200 and read(answer.get_data(as_text=True)) == first


def test_a_page_costs_the_same_statements_with_5_and_200_vendors(app, login_as):
    many_vendors(5, levels=True)
    client = login_as("executive")

    def second_pages() -> list[int]:
        return [count_queries(client, pager_link(client.get(f"{url}?per_page=2").get_data(as_text=True), "next"))
                for url in ("/vendors", "/vendors/campaign")]

    few = second_pages()
    many_vendors(195, start=5, levels=True)
    assert len(ids(select(Vendor))) == 200
    assert second_pages() == few
