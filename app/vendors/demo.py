"""Demo vendors of a quarter close: twelve suppliers with 2-4 level ladders, some confirmed this quarter, some
stale (confirmed last quarter only) and some never confirmed."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from app.auth.services import user_finder
from app.calendar.services import close_region, current_quarter
from app.database import commit_or_conflict
from app.extensions import db
from app.timeutil import utcnow
from app.vendors import ladder, services, supports
from app.vendors.models import Vendor, VendorCheck, VendorCheckKind, VendorContact, VendorContactConfirmation

X, I = "external", "internal"
DEMO_VALIDATOR = "crisis@acme.example"
# name, tier, supports, owner email, contract (id, level, days from the quarter's last day; None: expired), portal,
# hours, zone, SLA (P1, P2, P3 minutes), how far this quarter's validation got, ladder:
# [(label, when to call, [(kind, name, role, phone, mobile, email, hours, zone)])]
DEMO_VENDORS = [
    ("Orbis ERP", "critical",
     "ERP: order to cash, revenue recognition, general ledger and the quarter-close journals",
     "crisis@acme.example", ("ORB-88213", "Premier 24x7", 400), "https://support.orbis-erp.example", "24x7",
     "America/New_York", (30, 120, 480), "mixed", [
         ("Service desk", "Open a P1 case on the portal, then call", [
             (X, "Orbis Global Support", "Priority 1 desk", "+1 212 555 0187", None, "p1@orbis-erp.example",
              "24x7", "America/New_York"),
             (X, "Dana Whitfield", "Support duty manager", "+1 212 555 0142", "+1 917 555 0110",
              "dana.whitfield@orbis-erp.example", "Mon–Fri 08:00–20:00", "America/New_York")]),
         ("Escalation manager", "No progress within 30 minutes of a P1", [
             (X, "Marcus Lee", "Escalation manager", "+1 212 555 0155", "+1 917 555 0123",
              "marcus.lee@orbis-erp.example", "24x7 on call", "America/New_York"),
             (I, "Casey Crisis", "ERP application owner", "+44 20 7946 0958", None, "crisis@acme.example",
              "08:00–17:00", "Europe/London")]),
         ("Technical account manager", "A fix needs the vendor's engineering", [
             (X, "Priya Raman", "Technical account manager", "+1 415 555 0163", None,
              "priya.raman@orbis-erp.example", "Mon–Fri 09:00–18:00", "America/Los_Angeles")]),
         ("Executive sponsor", "Quarter close at risk", [
             (X, "Helen Ortiz", "VP Customer Success", "+1 212 555 0199", None, "helen.ortiz@orbis-erp.example",
              "Business hours", "America/New_York")])]),
    ("Clearwave CRM", "critical", "CRM and CPQ: opportunities, quotes and bookings", "crisis@acme.example",
     ("CW-2291", "Signature", 250), "https://help.clearwave.example", "24x7", "America/Los_Angeles", (60, 240, 1440),
     "done", [
         ("Support centre", "Any outage or data issue", [
             (X, "Clearwave Support", "Severity 1 line", "+1 415 555 0100", None, "sev1@clearwave.example",
              "24x7", "America/Los_Angeles")]),
         ("Success manager", "No response within the SLA", [
             (X, "Tom Becker", "Customer success manager", "+1 415 555 0124", "+1 650 555 0111",
              "tom.becker@clearwave.example", "Mon–Fri 08:00–17:00", "America/Los_Angeles")]),
         ("Account executive", "Commercial or contract escalation", [
             (X, "Alicia Grant", "Account executive", "+1 415 555 0177", None, "alicia.grant@clearwave.example",
              "Business hours", "America/Los_Angeles")])]),
    ("PayStream", "critical", "Payment processor: card authorisation and settlement for web orders",
     "admin@acme.example", ("PS-7781", "Enterprise", 300), "https://merchant.paystream.example", "24x7",
     "Europe/London", (15, 60, 240), "stale", [
         ("Merchant operations", "Authorisations failing or settlement late", [
             (X, "PayStream Merchant Ops", "24x7 operations", "+44 20 7946 0123", None, "ops@paystream.example",
              "24x7", "Europe/London")]),
         ("Incident manager", "No answer in 15 minutes", [
             (X, "Oliver Hughes", "Incident manager", "+44 20 7946 0456", "+44 7911 123456",
              "oliver.hughes@paystream.example", "24x7 rota", "Europe/London")]),
         ("Relationship manager", "Settlement will miss the close", [
             (X, "Grace Bell", "Relationship manager", "+44 20 7946 0789", None, "grace.bell@paystream.example",
              "Mon–Fri 09:00–17:30", "Europe/London")])]),
    ("Levy Tax Engine", "critical", "Tax calculation for quotes, orders and invoices", "crisis@acme.example",
     ("LV-1002", "Gold", -20), "https://support.levytax.example", "Mon–Fri 06:00–20:00", "America/Chicago",
     (60, 240, 960), "never", [
         ("Support", "Tax calls failing or wrong rates", [
             (X, "Levy Support", "Support line", "+1 312 555 0148", None, "support@levytax.example",
              "Mon–Fri 06:00–20:00", "America/Chicago")]),
         ("Support manager", "Outage longer than one hour", [
             (X, "Sam Nguyen", "Support manager", "+1 312 555 0161", "+1 773 555 0102",
              "sam.nguyen@levytax.example", "Mon–Fri 08:00–18:00", "America/Chicago")]),
         ("Account director", "Close at risk", [
             (X, "Rachel Stone", "Account director", "+1 312 555 0193", None, "rachel.stone@levytax.example",
              "Business hours", "America/Chicago")])]),
    ("Nimbus Cloud", "critical", "Cloud provider: hosting for the ERP, CRM integrations and the DR site",
     "admin@acme.example", ("NB-ENT-5520", "Enterprise On-Ramp", 500), "https://console.nimbus-cloud.example",
     "24x7", "UTC", (15, 60, 720), "done", [
         ("Cloud support", "Open a critical case in the console", [
             (X, "Nimbus Enterprise Support", "Critical case line", "+1 206 555 0134", None,
              "enterprise@nimbus-cloud.example", "24x7", "UTC")]),
         ("Technical account manager", "No engineer on the case in 15 minutes", [
             (X, "Kenji Sato", "Technical account manager", "+1 206 555 0172", "+1 425 555 0100",
              "kenji.sato@nimbus-cloud.example", "Mon–Fri 09:00–18:00", "America/Los_Angeles")]),
         ("Our cloud platform team", "Coordinate failover", [
             (I, "Avery Admin", "Cloud platform lead", "+1 415 555 0136", None, "admin@acme.example",
              "07:00–17:00", "America/Los_Angeles")]),
         ("Escalation executive", "Region-wide outage during the close", [
             (X, "Maria Costa", "Director, enterprise support", "+1 206 555 0190", None,
              "maria.costa@nimbus-cloud.example", "Business hours", "America/Los_Angeles")])]),
    ("KeyGate Identity", "critical", "Identity provider: single sign-on and MFA for every business application",
     "crisis@acme.example", ("KG-3310", "Premium", 200), "https://support.keygate.example", "24x7", "UTC",
     (30, 120, 480), "mixed", [
         ("Support", "Sign-in failing for many people", [
             (X, "KeyGate Support", "P1 line", "+1 646 555 0105", None, "p1@keygate.example", "24x7", "UTC")]),
         ("Duty escalation", "No progress in 30 minutes", [
             (X, "Nora Fischer", "Escalation engineer", "+49 30 123456", None, "nora.fischer@keygate.example",
              "24x7 rota", "Europe/Berlin")]),
         ("Customer success", "Contract or repeated incidents", [
             (X, "Ben Carter", "Customer success manager", "+1 646 555 0118", None, "ben.carter@keygate.example",
              "Business hours", "America/New_York")])]),
    ("TransGlobe Networks", "important", "Network carrier: WAN and internet links for the data centres and offices",
     "admin@acme.example", ("TG-WAN-77", "Managed WAN", None), "https://noc.transglobe.example", "24x7", "UTC",
     (60, 240, 1440), "stale", [
         ("Network operations centre", "Link down or packet loss", [
             (X, "TransGlobe NOC", "NOC", "+61 2 9123 4567", None, "noc@transglobe.example", "24x7",
              "Australia/Sydney")]),
         ("Service manager", "Outage longer than two hours", [
             (X, "Liam O'Brien", "Service delivery manager", "+353 21 234 5678", None,
              "liam.obrien@transglobe.example", "Mon–Fri 09:00–17:30", "Europe/Dublin")]),
         ("Regional network team", "Office cut off", [
             (I, "Rowan Responder", "Network on-call (APAC)", "+63 2 8800 1234", None, "oncall@acme.example",
              "09:00–18:00", "Asia/Manila")])]),
    ("Polar Data Warehouse", "important", "Data warehouse: bookings and revenue reporting, close dashboards",
     "crisis@acme.example", ("PDW-4410", "Business Critical", 330), "https://support.polar-dw.example", "24x7",
     "UTC", (60, 240, 1440), "done", [
         ("Support", "Queries failing or loads late", [
             (X, "Polar Support", "Severity 1 line", "+1 408 555 0142", None, "sev1@polar-dw.example", "24x7",
              "UTC")]),
         ("Account team", "Close reporting at risk", [
             (X, "Irene Park", "Sales engineer", "+1 408 555 0166", None, "irene.park@polar-dw.example",
              "Business hours", "America/Los_Angeles")])]),
    ("BatchFlow Scheduler", "important", "Job scheduling platform that runs the overnight close batch",
     "crisis@acme.example", ("BF-991", "Standard", 150), "https://support.batchflow.example", "Mon–Fri 08:00–18:00",
     "Europe/London", (120, 480, 2880), "never", [
         ("Support", "Scheduler down or jobs not starting", [
             (X, "BatchFlow Support", "Support line", "+44 20 3808 0000", None, "support@batchflow.example",
              "Mon–Fri 08:00–18:00", "Europe/London")]),
         ("Our batch operations", "Out of hours", [
             (I, "Casey Crisis", "Batch operations lead", "+44 20 7946 0958", None, "crisis@acme.example",
              "08:00–17:00", "Europe/London")])]),
    ("Ledgerly Bank Connect", "important", "Bank connectivity: payment files and statements for treasury",
     "admin@acme.example", ("LBC-220", "Premium", 180), "https://portal.ledgerly.example", "Mon–Fri 07:00–19:00",
     "Europe/London", (60, 240, 1440), "mixed", [
         ("Client service", "Payment file rejected or statement missing", [
             (X, "Ledgerly Client Service", "Client service desk", "+44 20 7946 0321", None,
              "service@ledgerly.example", "Mon–Fri 07:00–19:00", "Europe/London")]),
         ("Relationship manager", "Payments will miss the cut-off", [
             (X, "Fiona Walsh", "Relationship manager", "+44 20 7946 0654", "+44 7911 123789",
              "fiona.walsh@ledgerly.example", "Business hours", "Europe/London")])]),
    ("SwiftShip EDI", "important", "EDI gateway for partner orders and advance shipping notices", None,
     ("SS-EDI-12", "Standard", 90), "https://support.swiftship.example", "24x7", "Asia/Singapore",
     (60, 240, 1440), "never", [
         ("Support", "Partner orders not arriving", [
             (X, "SwiftShip Support", "24x7 support", "+65 6555 1234", None, "support@swiftship.example", "24x7",
              "Asia/Singapore")]),
         ("Operations manager", "Backlog over one hour", [
             (X, "Wei Lin Tan", "Operations manager", "+65 6555 1299", None, "weilin.tan@swiftship.example",
              "Mon–Fri 09:00–18:00", "Asia/Singapore")]),
         ("Account manager", "Close at risk", [
             (X, "Arjun Mehta", "Account manager", "+65 6555 1277", None, "arjun.mehta@swiftship.example",
              "Business hours", "Asia/Singapore")])]),
    ("Printwell Output", "other", "Invoice printing and mailing", "crisis@acme.example",
     ("PW-55", "Basic", 365), "https://help.printwell.example", "Mon–Fri 09:00–17:00", "Europe/London",
     (240, 960, None), "never", [
         ("Support", "Print run late", [
             (X, "Printwell Helpdesk", "Helpdesk", "+44 20 7946 0111", None, "help@printwell.example",
              "Mon–Fri 09:00–17:00", "Europe/London")]),
         ("Account manager", "Invoices will not go out", [
             (X, "Jo Palmer", "Account manager", "+44 20 7946 0222", None, "jo.palmer@printwell.example",
              "Business hours", "Europe/London")])]),
]


def _confirm(contact_id: int, quarter, at: datetime, validator) -> None:
    db.session.add(VendorContactConfirmation(contact_id=contact_id, fiscal_year=quarter.fiscal_year,
                                             quarter=quarter.quarter,
                                                 confirmed_by_id=validator.id if validator else None,
                                             confirmed_by_name=validator.name if validator else "Demo data",
                                             confirmed_at=at))


def _expiry(quarter, today, days: int | None):
    """`days` after the quarter's last day; a date before close is kept in the future, so it is flagged as
    expiring before close rather than expired; None makes an expired contract."""
    if days is None:
        return today - timedelta(days=30)
    return max(quarter.last_day + timedelta(days=days), today)


def seed_demo_vendors() -> int:
    """Create the demo vendors that are missing, with ladders and this quarter's validation; returns how many.

    Safe to run twice: a vendor that exists (by name) is left as it is. The services' no-commit steps check
    every field as the pages would; the ladders are then written in one flush and committed once with their
    validation (a commit per contact and level made this a third of the whole demo seed). A flush inserts and
    audits rows in the order they were added, so the ids and the audit trail are those the pages would give.
    """
    quarter = current_quarter()
    today = close_region().today()
    user_by_email = user_finder()
    validator = user_by_email(DEMO_VALIDATOR)
    now = utcnow()
    last_quarter_at = datetime.combine(quarter.previous().last_day - timedelta(days=12), time(10), UTC)
    existing = set(db.session.scalars(select(func.lower(Vendor.name))))
    made: list[tuple[Vendor, str, list[VendorContact]]] = []
    with db.session.no_autoflush:  # one flush for all the ladders, not one per vendor looked up
        for (name, tier, supported, owner_email, (contract_id, level, days), portal, hours, zone, (p1, p2, p3),
             progress, levels) in DEMO_VENDORS:
            if name.lower() in existing:
                continue
            owner = user_by_email(owner_email) if owner_email else None
            vendor = services.apply_vendor(
                Vendor(), name=name, tier=tier, supports=supported, contract_id=contract_id, contract_level=level,
                contract_expires=_expiry(quarter, today, days),
                portal_url=portal, account_number=f"ACME-{contract_id.split('-')[-1]}", support_hours=hours,
                support_zone=zone, sla_p1_minutes=p1, sla_p2_minutes=p2, sla_p3_minutes=p3,
                owner_id=owner.id if owner else None)
            db.session.add(vendor)
            contacts = []
            for number, (label, when, people) in enumerate(levels, 1):
                ladder.new_level(vendor, label=label, when_to_use=when)
                for kind, person, role, phone, mobile, email, person_hours, person_zone in people:
                    user = user_by_email(email) if kind == I else None
                    contacts.append(ladder.apply_contact(
                        VendorContact(), vendor, level=number, kind=kind, name=person, role=role, phone=phone,
                        mobile=mobile, email=email, hours=person_hours, time_zone=person_zone,
                        user_id=user.id if user else None))
            made.append((vendor, progress, contacts))
    db.session.flush()  # the vendors' and contacts' ids, for their validation
    for vendor, progress, contacts in made:
        for index, contact in enumerate(contacts):
            # done: everything this quarter; mixed: level 1 this quarter, the rest last quarter (stale) or never;
            # stale: everything last quarter only; never: nothing yet.
            if progress == "done" or (progress == "mixed" and contact.level.number == 1):
                _confirm(contact.id, quarter, now - timedelta(days=1), validator)
            elif progress == "stale" or (progress == "mixed" and index % 2 == 1):
                _confirm(contact.id, quarter.previous(), last_quarter_at, validator)
        if progress == "done":
            for kind in VendorCheckKind:
                db.session.add(VendorCheck(vendor_id=vendor.id, fiscal_year=quarter.fiscal_year,
                                           quarter=quarter.quarter, kind=kind,
                                               done_by_id=validator.id if validator else None,
                                           done_by_name=validator.name if validator else "Demo data",
                                           done_at=now - timedelta(days=1)))
    commit_or_conflict("The demo vendors changed at the same moment; run the seed again.")
    return len(made)


# The demo apps (from the watch list's demo) that demo vendors support.
DEMO_SUPPORTS = {"Orbis ERP": ("ERP", "Billing"), "Clearwave CRM": ("CRM", "Order management"),
                 "PayStream": ("Order management",), "Ledgerly Bank Connect": ("Treasury",),
                 "Polar Data Warehouse": ("Finance data",)}


def link_demo_vendor_supports() -> int:
    """Link the demo vendors to the demo apps they support, once; run after the watch list's demo."""
    made = 0
    for vendor_name, app_names in DEMO_SUPPORTS.items():
        vendor = services.find_vendor_by_name(vendor_name)
        if vendor is None:
            continue
        linked = {(link.kind, link.target_id) for link in vendor.support_links}
        for app_name in app_names:
            app_id = supports.find_target("app", app_name)
            if app_id is not None and ("app", app_id) not in linked:
                supports.new_support_link(vendor, kind="app", target_id=app_id)
                made += 1
    db.session.commit()
    return made
