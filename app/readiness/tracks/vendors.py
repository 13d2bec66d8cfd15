"""Vendors track: critical vendors not validated this quarter, unconfirmed contacts, contracts ending before close."""
from __future__ import annotations

from flask import url_for

from app.extensions import db
from app.readiness.tracks.base import ChaseItem, Context, Finding, TrackResult, not_tracked, scored
from app.vendors.campaign import campaign_vendors_query, progress_of
from app.vendors.models import VendorTier

TRACK = "vendors"


def assess(ctx: Context) -> TrackResult:
    """Score the quarterly vendor validation through the campaign's own progress rules."""
    # The campaign covers the critical and important vendors: tens of rows, loaded with their ladders at once.
    progress = progress_of(list(db.session.scalars(campaign_vendors_query())), ctx.quarter, ctx.today)
    if not progress:
        return not_tracked(TRACK, "Not tracked yet: no critical or important vendors are recorded.")
    campaign = url_for("vendors.campaign_page")

    def link(row) -> str:
        return url_for("vendors.vendor", vendor_id=row.vendor.id)

    not_validated = [row for row in progress if row.vendor.tier is VendorTier.CRITICAL and not row.validated]
    unconfirmed = [(row, status) for row in progress for status in row.pending]
    contracts = [row for row in progress if row.contract_flag is not None]
    findings = [
        Finding("critical vendors not validated this quarter", len(not_validated), 8, 40,
                [(f"Critical vendor not validated this quarter: {row.vendor.name}", link(row))
                 for row in not_validated], campaign, severe=True),
        Finding("vendor contacts not confirmed this quarter", len(unconfirmed), 2, 20,
                [(f"Contact {status.state.value}: {status.contact.name} ({row.vendor.name})", link(row))
                 for row, status in unconfirmed], campaign),
        Finding("vendor contracts ending before the close", len(contracts), 5, 20,
                [(f"{row.vendor.name}: {row.contract_flag.label}", link(row)) for row in contracts], campaign),
    ]
    return scored(TRACK, findings)


def chase(ctx: Context) -> list[ChaseItem]:
    """Escalation contacts of critical and important vendors not confirmed this quarter; critical vendors first."""
    progress = progress_of(list(db.session.scalars(campaign_vendors_query())), ctx.quarter, ctx.today)
    ordered = sorted(progress, key=lambda row: (row.vendor.tier is not VendorTier.CRITICAL, row.vendor.name))
    return [ChaseItem(f"Contact {status.state.value}: {status.contact.name} ({row.vendor.name})",
                      row.vendor.owner.name if row.vendor.owner else "No owner",
                      url_for("vendors.vendor", vendor_id=row.vendor.id),
                      urgent=row.vendor.tier is VendorTier.CRITICAL)
            for row in ordered for status in row.pending]
