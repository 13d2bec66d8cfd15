"""What a vendor supports, as links to apps and jobs of the watch list (beside the free-text description).

The watch list is read through its tables, not imported, so vendors keep working where it is not installed.
"""
from __future__ import annotations

from sqlalchemy import func, select

from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.record_links import named_table, record_name, record_url
from app.vendors.models import Vendor, VendorSupportLink

# kind -> (table, page endpoint, its URL parameter)
TARGETS = {"app": ("watch_apps", "watchlist.app", "app_id"), "job": ("watch_jobs", "watchlist.job", "job_id")}
MAX_CHOICES = 1000


def support_choices() -> list[tuple[str, str]]:
    """("app:3", "App: ERP") and ("job:7", "Job: ERP nightly billing") for every app and job, by name."""
    choices = []
    for kind in TARGETS:
        table = named_table(TARGETS[kind])
        if table is None:
            continue
        rows = db.session.execute(select(table.c.id, table.c.name).order_by(table.c.name).limit(MAX_CHOICES))
        choices += [(f"{kind}:{row.id}", f"{kind.capitalize()}: {row.name}") for row in rows]
    return choices


def find_target(kind: str, name: str) -> int | None:
    """The id of the app or job called `name`, if the watch list has one."""
    table = named_table(TARGETS[kind])
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
    link = new_support_link(vendor, kind=kind, target_id=target_id)
    db.session.commit()
    return link


def new_support_link(vendor: Vendor, *, kind: str, target_id: int | None) -> VendorSupportLink:
    """add_support_link without the commit (the demo links its vendors in one transaction)."""
    if kind not in TARGETS:
        raise Invalid("Link an app or a job.", "kind")
    name = record_name(TARGETS[kind], target_id) if target_id is not None else None
    if name is None:
        raise Invalid(f"No {kind} with id {target_id}.", "target_id")
    if db.session.scalar(select(func.count()).select_from(VendorSupportLink).where(
            VendorSupportLink.vendor_id == vendor.id, VendorSupportLink.kind == kind,
            VendorSupportLink.target_id == target_id)):
        raise Conflict(f"{vendor.name} is already linked to that {kind}.", "target_id")
    link = VendorSupportLink(vendor_id=vendor.id, kind=kind, target_id=target_id, label=str(name)[:200])
    vendor.support_links.append(link)
    return link


def remove_support_link(vendor: Vendor, link_id: int) -> None:
    link = db.session.get(VendorSupportLink, link_id)
    if link is None or link.vendor_id != vendor.id:
        raise NotFound("No such link on this vendor.")
    vendor.support_links.remove(link)
    db.session.commit()


def link_url(link: VendorSupportLink) -> str | None:
    """The linked record's page, when the watch list is installed."""
    return record_url(TARGETS[link.kind], link.target_id)
