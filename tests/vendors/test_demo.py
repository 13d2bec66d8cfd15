"""The demo vendors: a dozen quarter-close suppliers with 2-4 level ladders, part-way through the validation."""
from __future__ import annotations

from sqlalchemy import func, select

from app.calendar.services import current_quarter
from app.extensions import db
from app.timeutil import today_in
from app.vendors import campaign
from app.vendors.demo import seed_demo_vendors
from app.vendors.models import Vendor, VendorContact


def test_the_demo_vendors_are_seeded_once_with_confirmed_stale_and_never_contacts(app):
    assert seed_demo_vendors() == 12
    assert seed_demo_vendors() == 0
    vendors = list(db.session.scalars(select(Vendor)))
    assert len(vendors) == 12 and all(2 <= len(vendor.levels) <= 4 for vendor in vendors)
    assert {"Orbis ERP", "PayStream", "Levy Tax Engine", "Nimbus Cloud", "KeyGate Identity"} <= \
        {vendor.name for vendor in vendors}
    rows = campaign.progress_of(vendors, current_quarter(), today_in("UTC"))
    states = {status.state for row in rows for status in row.contacts}
    assert states == set(campaign.ContactState)
    assert any(row.validated for row in rows) and any(row.contract_flag for row in rows)
    assert db.session.scalar(select(func.count()).select_from(VendorContact)) >= 30
