"""Finding what a risk links to by name: the picker's search and the label typed into the risk page.

A target's label reads "Job · Billing run (Billing)": its kind, its name and, for a job, its app. Apps and vendors
have unique names and a job's name is unique within its app, so a whole label names one record.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.errors import Invalid
from app.record_links import find_named, named_table
from app.request_guard import database_int
from app.risks.services import LINK_KINDS

SEARCH_LIMIT = 20
QUERY_MAX = 100
KIND_LABELS = {"app": "App", "job": "Job", "vendor": "Vendor"}
WITHIN = {"job": ("watch_apps", "app_id")}  # a job's label names its app: two apps may each have a "Nightly load"
SEPARATOR = " · "


@dataclass(frozen=True)
class LinkTarget:
    kind: str
    id: int
    name: str
    within: str | None

    @property
    def label(self) -> str:
        return f"{KIND_LABELS[self.kind]}{SEPARATOR}{self.name}" + (f" ({self.within})" if self.within else "")

    def as_json(self) -> dict:
        return {"kind": self.kind, "id": self.id, "label": self.label}


def _installed(kinds=LINK_KINDS) -> list[str]:
    return [kind for kind in kinds if named_table(LINK_KINDS[kind]) is not None]


def _found(kind: str, **criteria) -> list[LinkTarget]:
    return [LinkTarget(kind, record_id, name, within) for record_id, name, within
            in find_named(LINK_KINDS[kind], within=WITHIN.get(kind), **criteria)]


def search(query: str, limit: int = SEARCH_LIMIT) -> list[LinkTarget]:
    """The first `limit` apps, jobs and vendors whose name contains `query` (ignoring case), by name."""
    query = query.strip()[:QUERY_MAX]
    if not query:
        return []
    found = [target for kind in _installed() for target in _found(kind, containing=query, limit=limit)]
    return sorted(found, key=lambda target: (target.name.lower(), target.label.lower(), target.id))[:limit]


def chosen(kind: str | None, target_id: str | None, text: str) -> tuple[str, int]:
    """The (kind, id) the risk page's link form names: the ids its picker set when they are sound, otherwise
    the typed label or name resolved to exactly one record (Invalid naming the `target` field if not)."""
    if kind in LINK_KINDS and target_id:
        try:
            return kind, database_int(target_id)
        except ValueError:
            pass
    return _resolve(text)


def _resolve(text: str) -> tuple[str, int]:
    typed = " ".join(text.split())
    kinds, name = list(LINK_KINDS), typed
    prefix, separator, rest = typed.partition(SEPARATOR.strip())
    for kind, label in KIND_LABELS.items():
        if separator and prefix.strip().lower() == label.lower():
            kinds, name = [kind], rest.strip()
    names = {name, name.rsplit(" (", 1)[0]} if name.endswith(")") else {name}
    candidates = {target for kind in _installed(kinds) for each in names if each
                  for target in _found(kind, named=each, limit=SEARCH_LIMIT)}
    whole = [t for t in candidates if typed.lower() == t.label.lower()
             or (t.within and typed.lower() == t.label.partition(SEPARATOR)[2].lower())]
    by_name = [t for t in candidates if t.name.lower() == name.lower()]
    for matches in (whole, by_name):
        if len(matches) == 1:
            return matches[0].kind, matches[0].id
    if by_name:
        labels = "; ".join(sorted(t.label for t in by_name))
        raise Invalid(f"Several are called “{name}”: {labels}. Type the whole label or choose from the list.",
                      "target")
    raise Invalid(f"Nothing to link is called “{typed}”. Type part of its name and choose from the list.", "target")
