"""Vendor records for tests outside this folder (the route walk in tests/test_access.py)."""
from __future__ import annotations

from app.vendors import ladder, supports
from app.vendors import services as vendors
from app.watchlist import services as watchlist


def walk_vendor_values(owner) -> dict[str, int]:
    """A critical vendor with one level and one contact, made through the services; their ids by URL parameter."""
    vendor = vendors.create_vendor(name="Walk vendor", tier="critical", owner_id=owner.id)
    level = ladder.add_level(vendor, label="Service desk")
    contact = ladder.create_contact(vendor, level=1, kind="external", name="Walk desk", phone="+14155550100")
    link = supports.add_support_link(vendor, kind="app", target_id=watchlist.save_app(None, name="Walk ERP").id)
    return {"vendor_id": vendor.id, "escalation_level_id": level.id, "vendor_contact_id": contact.id,
            "support_link_id": link.id}
