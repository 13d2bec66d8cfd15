"""The demo register: quarter-close risks of a fictional company, with how each moved over the last eight weeks.

Times are in days before the moment the demo is loaded, and due dates in days from the team's today, so the demo
always looks current. Owners are the demo users' emails.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CASEY, AVERY, ROWAN = "crisis@acme.example", "admin@acme.example", "oncall@acme.example"


@dataclass(frozen=True)
class DemoRisk:
    title: str
    category: str
    source: str
    owner: str
    description: str
    created: float  # days ago
    inherent: tuple[int, int]
    scores: list[tuple[float, int, int]]  # (days ago, residual likelihood, impact), first at creation
    statuses: list[tuple[float, str, str]] = field(default_factory=list)  # (days ago, status, reason)
    # (what, who, due in days, status, made days ago)
    actions: list[tuple[str, str, int, str, float]] = field(default_factory=list)
    exposure: int | None = None
    updated: float | None = None  # days ago of the last update when nothing later happened (stale risks)
    accepted: tuple[str, int] | None = None  # (reason, expires in days) for an accepted risk
    comment: str = ""


DEMO_RISKS = [
    DemoRisk("Order import falls behind at quarter-end volume", "capacity", "technology", ROWAN,
             "The hourly order import took 52 minutes at last quarter's peak; at 3x volume it would miss the "
             "bookings cut-off.", 56, (5, 5), [(56, 4, 5), (35, 4, 4), (4, 3, 4)], [(30, "mitigating", "")],
             [("Scale order import workers from 4 to 8", ROWAN, 5, "doing", 30),
              ("Load test the import at 3x peak volume", ROWAN, -10, "done", 30)], exposure=2_400_000),
    DemoRisk("ERP general ledger runs on a single database node", "single_point_of_failure", "technology", AVERY,
             "No standby for the GL database: a node failure in close week stops journal posting until restore.",
             55, (4, 5), [(55, 4, 5), (20, 3, 5)], [(40, "mitigating", "")],
             [("Build the standby replica and test failover", AVERY, 12, "doing", 40),
              ("Agree a restore-time target with finance", CASEY, -3, "todo", 40)], exposure=5_000_000),
    DemoRisk("Tax engine vendor outage during close", "vendor", "external", CASEY,
             "The tax engine answered 503 for two hours last week; invoices cannot be finalised without it.",
             49, (4, 4), [(49, 3, 4), (5, 4, 4)], [],
             [("Confirm the vendor's P1 escalation path and SLA", CASEY, -3, "todo", 45),
              ("Cache tax rates for a four-hour fallback", ROWAN, 9, "todo", 5)], exposure=800_000),
    DemoRisk("Only one engineer can rerun the billing job", "single_point_of_failure", "people", CASEY,
             "If the billing run fails overnight, only one person knows the rerun steps.", 42, (4, 4),
             [(42, 4, 4), (21, 3, 4)], [(21, "mitigating", "")],
             [("Write the billing rerun runbook and train a second engineer", CASEY, 75, "todo", 21)]),
    DemoRisk("Revenue recognition job close to its 60-minute limit", "capacity", "technology", AVERY,
             "Runs take 52–58 minutes; the downstream close sweep starts at the 60-minute mark.", 40, (4, 4),
             [(40, 4, 3), (12, 3, 3)], [(12, "mitigating", "")],
             [("Split the recognition run by legal entity", AVERY, 2, "doing", 12)]),
    DemoRisk("Globex renewal may slip past quarter end", "pipeline_deal", "external", CASEY,
             "Procurement at Globex wants another legal review of the multi-year terms.", 28, (3, 5),
             [(28, 3, 5), (3, 4, 5)], [], [("Executive sponsor call with Globex procurement", CASEY, 1, "todo", 3)],
             exposure=1_200_000),
    DemoRisk("45% of bookings land in the last two weeks", "linearity", "process", CASEY,
             "Back-loaded quarters overload order management and billing in close week.", 56, (4, 3),
             [(56, 4, 3)], [], [("Weekly linearity report to sales leadership", CASEY, 20, "doing", 50)]),
    DemoRisk("FX rates feed stale on UK bank holidays", "data", "external", AVERY,
             "The FX load has no rates on UK holidays and the job reuses the previous day silently.", 47, (3, 3),
             [(47, 3, 3), (26, 2, 3)], [(26, "mitigated", "Fallback to the ECB rates added")]),
    DemoRisk("Data warehouse refresh overruns into the morning", "capacity", "technology", ROWAN,
             "The refresh now takes 95–120 minutes and sometimes finishes after the revenue dashboard extract.",
             33, (4, 3), [(33, 3, 3), (6, 4, 3)], [],
             [("Move the dashboard extract after the refresh completes", ROWAN, 4, "todo", 6)]),
    DemoRisk("Intercompany eliminations fail on new entity codes", "defect", "technology", AVERY,
             "Two entities created this quarter are missing from the elimination mapping.", 24, (4, 4),
             [(24, 4, 4)], [(10, "mitigating", "")],
             [("Add the new entities to the elimination mapping", AVERY, -1, "doing", 20)]),
    DemoRisk("Billing retries can create duplicate invoices", "defect", "technology", ROWAN,
             "A timeout in the invoice dispatch retry created 14 duplicates last quarter.", 52, (3, 4),
             [(52, 3, 4), (30, 2, 4)], [(30, "mitigated", "Idempotency key on dispatch")],
             [("Idempotency key on invoice dispatch", ROWAN, -25, "done", 50)]),
    DemoRisk("Emergency releases bypass the close change freeze", "other", "process", CASEY,
             "Three emergency releases went out in last quarter's freeze without a rollback plan.", 38, (3, 4),
             [(38, 3, 4)], [], [("Require crisis-team sign-off for freeze exceptions", CASEY, 8, "todo", 38)]),
    DemoRisk("Payment reconciliation depends on one spreadsheet", "single_point_of_failure", "process", AVERY,
             "The reconciliation macro lives on one laptop and is not version-controlled.", 45, (3, 3),
             [(45, 3, 3)], [], [("Move the reconciliation into the finance data platform", AVERY, 110, "todo", 45)],
             updated=20),
    DemoRisk("CRM opportunity sync drops records over 10,000", "data", "technology", ROWAN,
             "The sync pages at 10k and silently drops the rest; close-week volume exceeds it.", 19, (4, 3),
             [(19, 4, 3)], [], [("Fix pagination in the opportunity sync", ROWAN, 6, "todo", 19)]),
    DemoRisk("Data centre power maintenance in close week", "outage", "external", AVERY,
             "The colocation provider schedules UPS maintenance for the last Saturday of the quarter.", 36, (2, 5),
             [(36, 2, 5), (15, 2, 4)], [(15, "accepted", "")], [], comment="Provider confirmed a generator on standby.",
             accepted=("Generator on standby and the provider's runbook reviewed; moving the date is not possible.",
                       30)),
    DemoRisk("Shipping confirmation API rate limits at peak", "vendor", "external", ROWAN,
             "The carrier API allows 50 requests per second; close-week peaks reached 70.", 30, (3, 3),
             [(30, 3, 3), (9, 2, 3)], [(9, "mitigating", "")],
             [("Batch shipment confirmations", ROWAN, 10, "doing", 9)]),
    DemoRisk("Commission calculation errors delay quota attainment", "defect", "process", CASEY,
             "Errors in the commission run have delayed sales attainment figures by two days.", 21, (2, 3),
             [(21, 2, 3)], []),
    DemoRisk("Quote approvals bottleneck at VP level", "other", "people", CASEY,
             "Non-standard quotes wait up to three days for VP approval in the last week.", 50, (3, 3),
             [(50, 3, 3), (29, 2, 2)], [(29, "mitigated", "Delegated approval up to 250k")]),
    DemoRisk("Bank statement import format change", "vendor", "external", AVERY,
             "The bank moved to camt.053; the importer read the old MT940 only.", 54, (3, 4), [(54, 3, 4)],
             [(40, "mitigating", ""), (22, "closed", "New importer live and reconciled for three weeks")],
             [("Build the camt.053 importer", AVERY, -30, "done", 50)]),
    DemoRisk("EMEA–AMER network link has no second carrier", "outage", "technology", ROWAN,
             "A fibre cut last year took the link down for six hours.", 44, (2, 5), [(44, 2, 5)], [],
             [("Order a second carrier for the EMEA–AMER link", ROWAN, 60, "doing", 44)]),
    DemoRisk("Cash positioning report uploaded by hand", "other", "process", AVERY,
             "Treasury uploads the cash position manually each morning in Manila.", 34, (2, 3), [(34, 2, 3)], [],
             updated=18),
    DemoRisk("Initech multi-year deal with non-standard terms", "pipeline_deal", "external", CASEY,
             "Revenue treatment of the termination clause is not agreed with the auditors.", 12, (4, 4),
             [(12, 4, 4)], [], [("Revenue accounting memo for the auditors", CASEY, 3, "todo", 12)],
             exposure=3_100_000),
    DemoRisk("Segregation of duties gap in manual journals", "other", "process", AVERY,
             "An audit finding: one role can create and approve manual journal entries.", 48, (3, 4),
             [(48, 3, 4), (27, 1, 4)], [(27, "mitigated", "Approval workflow enforced in the ERP")],
             [("Enforce four-eyes approval in the ERP", AVERY, -28, "done", 48)]),
    DemoRisk("Billing database restore has never been tested", "data", "technology", ROWAN,
             "Backups run nightly but nobody has restored one; restore time is unknown.", 39, (3, 5),
             [(39, 3, 5)], [], [("Restore last night's backup into staging and time it", ROWAN, -6, "todo", 39)],
             updated=17),
    DemoRisk("One on-call person for treasury jobs in APAC", "single_point_of_failure", "people", CASEY,
             "The APAC rotation has one member who knows the treasury jobs.", 2, (3, 4), [(2, 3, 4)], [],
             [("Add a second APAC engineer to the treasury rotation", CASEY, 14, "todo", 2)]),
    DemoRisk("No alert when the tax calculation job is slow", "other", "technology", ROWAN,
             "The watch list pages on failure but not when the tax job runs twice as long as usual.", 5, (3, 3),
             [(5, 3, 3)], []),
]
