"""Column names as the people who read a change history know them: "Residual likelihood", not `likelihood`,
"Owner", not `owner_id`."""
from __future__ import annotations

from flask import Flask

# Where the column name says something else than the form label, or nothing at all to a reader.
LABELS = {
    "likelihood": "Residual likelihood",
    "impact": "Residual impact",
    "inherent_likelihood": "Inherent likelihood",
    "inherent_impact": "Inherent impact",
    "residual_likelihood": "Residual likelihood",
    "residual_impact": "Residual impact",
    "owner_id": "Owner",
    "approver_id": "Approver",
    "escalation_policy_id": "Escalation policy",
    "app_id": "App",
    "vendor_id": "Vendor",
    "region_id": "Region",
    "rto_minutes": "Recovery time target (minutes)",
    "rpo_minutes": "Data loss target (minutes)",
    "bd_offset": "Business day (from close)",
    "quarter_fy": "Fiscal year",
    "escalated_at": "Escalated",
    "last_reviewed_at": "Last reviewed",
    "next_review_on": "Next review",
    "accepted_until": "Accepted until",
}


def field_label(name: str) -> str:
    """The label for a stored field name; other names read as words ("grace_minutes" → "Grace minutes")."""
    if name in LABELS:
        return LABELS[name]
    words = name.removesuffix("_id").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def init_app(app: Flask) -> None:
    app.jinja_env.filters["field_label"] = field_label
