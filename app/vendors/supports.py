"""What a vendor supports, as links to apps and jobs of the watch list (beside the free-text description).

The watch list is read through its tables, not imported, so vendors keep working where it is not installed.
"""
from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select
from werkzeug.routing import BuildError

from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.vendors.models import Vendor, VendorSupportLink

# kind -> (table, page endpoint, its URL parameter)
TARGETS = {"app": ("watch_apps", "watchlist.app", "app_id"), "job": ("watch_jobs", "watchlist.job", "job_id")}
MAX_CHOICES = 1000


def _table(kind: str):
    table = db.metadata.tables.get(TARGETS[kind][0])
    return table if table is not None and "name" in table.c else None


def support_choices() -> list[tuple[str, str]]:
    """("app:3", "App: ERP") and ("job:7", "Job: ERP nightly billing") for every app and job, by name."""
    choices = []
    for kind in TARGETS:
        table = _table(kind)
        if table is None:
            continue
        rows = db.session.execute(select(table.c.id, table.c.name).order_by(table.c.name).limit(MAX_CHOICES))
        choices += [(f"{kind}:{row.id}", f"{kind.capitalize()}: {row.name}") for row in rows]
    return choices


def find_target(kind: str, name: str) -> int | None:
    """The id of the app or job called `name`, if the watch list has one."""
    table = _table(kind)
    if table is None:
        return None
    return db.session.scalar(select(table.c.id).where(table.c.name == name).order_by(table.c.id).limit(1))


def parse_target(raw: str | None) -> dict:
    """The page's one choice ("app:3") as the service's arguments."""
    kind, _, number = (raw or "").partition(":")
    if kind not in TARGETS or not number.isdigit():
        raise Invalid("Choose an app or a job.", "target")
    return {"kind": kind, "target_id": int(number)}


def add_support_link(vendor: Vendor, *, kind: str, target_id: int | None) -> VendorSupportLink:
    """Record that the vendor supports an app or job that exists; each once."""
    if kind not in TARGETS:
        raise Invalid("Link an app or a job.", "kind")
    table = _table(kind)
    name = None
    if table is not None and target_id is not None:
        name = db.session.scalar(select(table.c.name).where(table.c.id == target_id))
    if name is None:
        raise Invalid(f"No {kind} with id {target_id}.", "target_id")
    if db.session.scalar(select(func.count()).select_from(VendorSupportLink).where(
            VendorSupportLink.vendor_id == vendor.id, VendorSupportLink.kind == kind,
            VendorSupportLink.target_id == target_id)):
        raise Conflict(f"{vendor.name} is already linked to that {kind}.", "target_id")
    link = VendorSupportLink(vendor_id=vendor.id, kind=kind, target_id=target_id, label=str(name)[:200])
    vendor.support_links.append(link)
    db.session.commit()
    return link


def remove_support_link(vendor: Vendor, link_id: int) -> None:
    link = db.session.get(VendorSupportLink, link_id)
    if link is None or link.vendor_id != vendor.id:
        raise NotFound("No such link on this vendor.")
    vendor.support_links.remove(link)
    db.session.commit()


def link_url(link: VendorSupportLink) -> str | None:
    """The linked record's page, when the watch list is installed."""
    _table_name, endpoint, param = TARGETS[link.kind]
    try:
        return url_for(endpoint, **{param: link.target_id})
    except BuildError:
        return None
