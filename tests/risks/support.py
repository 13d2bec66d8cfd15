"""Risk records for tests outside this folder (the route walk in tests/test_access.py) and for the review tests."""
from __future__ import annotations

from datetime import timedelta

from app.reviews.agenda import build_review
from app.risks import actions, escalations
from app.risks import services as risks
from app.risks.cadence import team_today
from app.risks.models import RiskLink
from app.risks.scoring import current_settings
from app.extensions import db

RISK_DEFAULTS = {"description": "", "category": "capacity", "source": "technology", "exposure": None,
                 "inherent_likelihood": 4, "inherent_impact": 4, "likelihood": 3, "impact": 4}


def risk_fields(owner, **fields) -> dict:
    """Every field create_risk needs, for a risk threatening the current quarter."""
    quarter = risks.quarter_choices(current_settings())[1]
    return {**RISK_DEFAULTS, "title": "Order import cannot keep up at quarter end", "owner_id": owner.id,
            "quarter": quarter, **fields}


def walk_risk_values(owner) -> dict[str, int]:
    """A risk with an action and a link, and this week's review, made through the services; ids by URL parameter."""
    risk = risks.create_risk(**risk_fields(owner, title="Walk risk"))
    action = actions.add_action(risk, description="Walk action", owner_id=owner.id,
                                due_on=team_today(current_settings()) + timedelta(days=3))
    link = RiskLink(risk_id=risk.id, kind="vendor", target_id=1, label="Walk vendor")  # the walk never opens it
    db.session.add(link)
    db.session.commit()
    review, _created = build_review(built_by="walk")
    item = review.items[0]
    escalation = escalations.apply_escalation(risk, actor=owner, text="Walk escalation")
    db.session.commit()
    return {"risk_id": risk.id, "action_id": action.id, "link_id": link.id, "review_id": review.id,
            "item_id": item.id, "escalation_id": escalation.id}
