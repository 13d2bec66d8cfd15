"""The demo "ERP failover/failback" template (the same procedure as runbooks/erp-failover-failback.md) and an
exercise of it scheduled for the current quarter, ready to run from the first step; two continuity plans and
their alternate sites."""
from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from app.auth.services import find_user_by_email
from app.calendar.services import close_region
from app.drtests import continuity, exercises, templates
from app.drtests.models import DrExercise, DrTemplate
from app.extensions import db
from app.timeutil import wall_clock_to_utc

DEMO_TEMPLATE = "ERP failover/failback"
DEMO_OWNER = "crisis@acme.example"
DEMO_PARTICIPANTS = ("oncall@acme.example", "admin@acme.example")
# title, phase, owner, expected minutes, depends on, counts toward recovery, evidence required, critical, instructions
DEMO_STEPS = [
    ("Announce the test and freeze ERP batch jobs", "prepare", "Crisis team", 10, "", False, False, False,
     "- Post the start in the crisis channel with the bridge number.\n"
     "- Put the ERP batch scheduler on hold; note the last job that completed."),
    ("Confirm standby replication is current", "prepare", "DBA on call", 10, "1", False, True, True,
     "Check the replication lag on the standby (target: under **5 minutes**).\n\n"
     "Record the time of the last replicated transaction on the exercise page."),
    ("Stop the ERP application tier at the primary site", "failover", "ERP basis team", 10, "2", True, False, False,
     "Stop the application servers in order: batch, then dialog, then the central services."),
    ("Promote the standby database", "failover", "DBA on call", 15, "3", True, True, True,
     "Run `dr-promote --site standby` and attach its output as evidence."),
    ("Change-board approval to switch DNS", "failover", "Change manager", 10, "4", False, False, False,
     "The emergency change is approved on the bridge; this wait does not count toward recovery time."),
    ("Repoint DNS and the load balancer to the standby site", "failover", "Network on call", 10, "5", True, False,
     True, "Lower nothing now: TTLs were set to 60 s during preparation. Switch the `erp` record and the VIP."),
    ("Start the ERP application tier at the standby site", "failover", "ERP basis team", 15, "6", True, False,
     False, "Start central services, then dialog, then batch instances."),
    ("Validate order entry and invoicing", "validate", "Key users", 20, "7", True, True, True,
     "Enter a test sales order, ship it and invoice it. Attach a screenshot of the invoice."),
    ("Validate interfaces (EDI, bank, payroll)", "validate", "Integration team", 15, "7", True, False, False,
     "Send one test message per interface and confirm receipt with each partner."),
    ("Declare the service recovered", "validate", "Crisis team", 5, "8,9", True, False, False,
     "Announce recovery in the crisis channel; the recovery clock stops here."),
    ("Resynchronise the primary from the standby", "failback", "DBA on call", 30, "10", True, False, False,
     "Rebuild the primary as a replica of the standby and wait until the lag is zero."),
    ("Switch back to the primary site", "failback", "ERP basis team", 20, "11", True, True, False,
     "Stop the standby application tier, promote the primary, repoint DNS and the VIP, start the application."),
    ("Release batch jobs and close the test", "close", "Crisis team", 10, "12", True, False, False,
     "Release the batch scheduler, confirm the first jobs run, and record findings before sign-off."),
]


RESTORE_DRILL = "Quarterdeck database restore drill"
# The drill of deploy/backup/README.md: the crisis tool's own recovery is rehearsed like the ERP's.
RESTORE_STEPS = [
    ("Pick last night's backup and note its time", "prepare", "DBA on call", 5, "", False, True, False,
     "List `BACKUP_DIR` and take the newest `quarterdeck-*.dump`; its time stamp is the recovery point."),
    ("Restore it into a new database", "failover", "DBA on call", 20, "1", True, True, True,
     "Run `deploy/backup/restore.sh <dump> quarterdeck_restore_drill` and attach its output."),
    ("Check the schema is this release's head", "validate", "DBA on call", 5, "2", True, False, True,
     "`flask --app wsgi db current` against the restored database must print the migrations head."),
    ("Serve it from a spare app node and sign in", "validate", "Crisis team", 15, "3", True, True, True,
     "Open an alert, the watch list and the readiness page; attach a screenshot."),
    ("Drop the drill database and record findings", "close", "DBA on call", 5, "4", False, False, False,
     "Drop `quarterdeck_restore_drill`; anything slow or surprising becomes a finding."),
]


def seed_demo_restore_drill() -> DrTemplate:
    """The demo's restore drill template (no exercise scheduled: a crisis team plans it each quarter)."""
    template = db.session.scalar(select(DrTemplate).where(DrTemplate.name == RESTORE_DRILL))
    if template is None:
        template = templates.create_template(
            name=RESTORE_DRILL, systems="Quarterdeck database", rto_minutes=60, rpo_minutes=24 * 60,
            description="Restore last night's backup of Quarterdeck's own database and serve it: the crisis tool "
                        "must come back as surely as the systems it watches. See deploy/backup/README.md.")
        for title, phase, owner, minutes, deps, counts, evidence, critical, text in RESTORE_STEPS:
            templates.new_step(template, title=title, phase=phase, owner=owner, expected_minutes=minutes,
                               depends_on=deps, counts_toward_recovery=counts, evidence_required=evidence,
                               critical=critical, instructions=text)
            db.session.flush()  # a step at a time, so the audit trail shows each step and version as add_step would
        db.session.commit()
    return template


DEMO_SITES = [
    # name, city, zone, seats, operation room
    ("Reading standby data centre", "Reading", "Europe/London", 40,
     "War room 2.14: 12 seats, bridge +44 20 7946 0000, spare laptops in the cage; badge access via security."),
    ("Manila operations room", "Manila", "Asia/Manila", 30,
     "Floor 9 crisis room: wall screens, satellite phone, printed runbooks in the red binder."),
]
DEMO_PLANS = [
    # name, owner, scope, teams, sites, review in days, simulation held days ago (None: never)
    ("Order fulfilment", "crisis@acme.example",
     "Take, ship and invoice customer orders when the ERP or the main warehouse is unavailable.",
     "Customer service, Warehouse, Finance operations", ["Reading standby data centre"], 60, 40),
    ("Strategic sourcing", "admin@acme.example",
     "Keep critical purchase orders flowing when a tier-1 supplier fails.",
     "Procurement, Legal", ["Manila operations room"], -5, None),
]


def seed_demo_continuity() -> None:
    """Demo sites and plans, one of them never exercised and overdue for review; safe to run twice."""
    sites = {site.name: site for site in continuity.list_sites()}
    for name, city, zone, seats, room in DEMO_SITES:
        if name not in sites:
            sites[name] = continuity.save_site(None, name=name, city=city, time_zone=zone, capacity=seats,
                                               operation_room=room)
    existing = {plan.name for plan in continuity.list_plans()}
    today = close_region().today()
    for name, owner_email, scope, teams, site_names, review_in, held_ago in DEMO_PLANS:
        if name in existing:
            continue
        owner = find_user_by_email(owner_email)
        plan = continuity.save_plan(None, name=name, owner_id=owner.id if owner else None, scope=scope, teams=teams,
                                    review_due=today + timedelta(days=review_in),
                                    site_ids=[sites[n].id for n in site_names])
        if held_ago is not None and owner is not None:
            continuity.record_simulation(plan, user=owner, held_on=today - timedelta(days=held_ago),
                                         result="passed_with_issues", notes="Manual order entry slower than planned.")


def seed_demo_drtests() -> DrTemplate:
    """Create the demo template and this quarter's exercise of it when missing; safe to run twice."""
    template = db.session.scalar(select(DrTemplate).where(DrTemplate.name == DEMO_TEMPLATE))
    if template is None:
        template = templates.create_template(
            name=DEMO_TEMPLATE, systems="ERP, EDI gateway, bank interface, payroll interface", rto_minutes=120,
            rpo_minutes=15, description="Quarterly failover of the ERP to the standby site and failback. "
                                        "Runbook: runbooks/erp-failover-failback.md")
        for title, phase, owner, minutes, deps, counts, evidence, critical, text in DEMO_STEPS:
            templates.new_step(template, title=title, phase=phase, owner=owner, expected_minutes=minutes,
                               depends_on=deps, counts_toward_recovery=counts, evidence_required=evidence,
                               critical=critical, instructions=text)
            db.session.flush()  # a step at a time, so the audit trail shows each step and version as add_step would
        db.session.commit()
    if db.session.scalar(select(DrExercise.id).where(DrExercise.template_id == template.id)) is None:
        owner = find_user_by_email(DEMO_OWNER)
        people = [p for p in (find_user_by_email(email) for email in DEMO_PARTICIPANTS) if p is not None]
        region = close_region()
        when = wall_clock_to_utc(region.today() + timedelta(days=7), time(14), region.zone)
        exercises.schedule_exercise(template=template, kind="full_failover", scheduled_for=when,
                                    owner_id=owner.id if owner else None, participant_ids=[p.id for p in people])
    seed_demo_continuity()
    seed_demo_restore_drill()
    return template
