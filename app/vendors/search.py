""""Who do I call?": one search over everything that has a name and a way to reach someone.

Search is a registry of providers so that other domains add their own results (apps and jobs, for example)
without this module knowing them: each domain's `register_search()` calls `register_search_provider()`, and
create_app() calls those (registering again replaces by name, so a second app changes nothing). Each provider takes the query and a limit and returns SearchResults.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.vendors.models import EscalationLevel, Vendor, VendorContact

MIN_QUERY = 2
MAX_QUERY = 100
PER_KIND = 10


@dataclass(frozen=True)
class SearchResult:
    title: str
    detail: str
    url: str
    phones: tuple[tuple[str, str, str], ...] = ()  # (label, E.164, readable): tap to call from the results
    email: str | None = None


SearchProvider = Callable[[str, int], list[SearchResult]]


@dataclass(frozen=True)
class ProviderEntry:
    heading: str
    order: int
    find: SearchProvider


_PROVIDERS: dict[str, ProviderEntry] = {}


def register_search_provider(name: str, heading: str, find: SearchProvider, order: int = 50) -> None:
    """Add (or replace, by name) a source of results; `order` places its section on the page (lower first)."""
    _PROVIDERS[name] = ProviderEntry(heading=heading, order=order, find=find)


@dataclass(frozen=True)
class ResultGroup:
    name: str
    heading: str
    results: list[SearchResult]


def clean_query(raw: str | None) -> str:
    return " ".join((raw or "").split())[:MAX_QUERY]


def search_everything(raw: str | None, per_kind: int = PER_KIND) -> list[ResultGroup]:
    """Results of every provider for the query, in provider order; nothing for fewer than MIN_QUERY characters."""
    query = clean_query(raw)
    if len(query) < MIN_QUERY:
        return []
    groups = []
    for name, entry in sorted(_PROVIDERS.items(), key=lambda item: (item[1].order, item[0])):
        results = entry.find(query, per_kind)
        if results:
            groups.append(ResultGroup(name=name, heading=entry.heading, results=results[:per_kind]))
    return groups


def best_first(items: list, query: str, name_of: Callable, texts_of: Callable) -> list:
    """Items with a word starting with the query ("ERP" finds "the ERP", not "enterprise"): names that start
    with it first, then names with such a word ("Orbis ERP"), then the rest, each alphabetically."""
    starts_word = re.compile(rf"(?<!\w){re.escape(query)}", re.IGNORECASE)
    lowered = query.lower()
    matching = [item for item in items if any(starts_word.search(text or "") for text in texts_of(item))]

    def rank(item) -> tuple[int, str]:
        name = name_of(item).lower()
        return (0 if name.startswith(lowered) else 1 if starts_word.search(name) else 2), name

    return sorted(matching, key=rank)


def find_vendors(query: str, limit: int) -> list[SearchResult]:
    """Vendors whose name or "what it supports" holds the query ("ERP" finds the ERP vendor)."""
    rows = db.session.scalars(select(Vendor).where(or_(
        Vendor.name.icontains(query, autoescape=True), Vendor.supports.icontains(query, autoescape=True)))
        .order_by(Vendor.name).limit(limit * 5))
    results = []
    for vendor in best_first(list(rows), query, lambda v: v.name, lambda v: (v.name, v.supports))[:limit]:
        supports = vendor.supports.split("\n", 1)[0][:120]
        results.append(SearchResult(title=vendor.name, detail=f"{vendor.tier.value} · {supports}".rstrip(" ·"),
                                    url=url_for("vendors.vendor", vendor_id=vendor.id)))
    return results


def find_contacts(query: str, limit: int) -> list[SearchResult]:
    """Escalation contacts by name or role, with their vendor and level and tap-to-call numbers."""
    rows = db.session.scalars(select(VendorContact).where(or_(
        VendorContact.name.icontains(query, autoescape=True), VendorContact.role.icontains(query, autoescape=True)))
        .options(selectinload(VendorContact.level).selectinload(EscalationLevel.vendor))
        .order_by(VendorContact.name).limit(limit * 5))
    results = []
    for contact in best_first(list(rows), query, lambda c: c.name, lambda c: (c.name, c.role))[:limit]:
        detail = " · ".join(part for part in (contact.role, contact.level.vendor.name, contact.level.title) if part)
        results.append(SearchResult(
            title=contact.name, detail=detail, phones=tuple(contact.phones), email=contact.email,
            url=url_for("vendors.vendor", vendor_id=contact.vendor_id, _anchor=f"contact-{contact.id}")))
    return results


def register_search() -> None:
    """Called by create_app(): vendors and their escalation contacts in "Who do I call?"."""
    register_search_provider("vendors", "Vendors", find_vendors, order=10)
    register_search_provider("contacts", "Escalation contacts", find_contacts, order=30)
