"""The demo register: about 25 quarter-close risks across every category, actions, eight weeks of history, past
reviews, and an agenda worth a meeting; loading it twice adds nothing."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.reviews.agenda import build_review
from app.reviews.models import ReviewStatus, RiskReview
from app.risks import history
from app.risks.demo import seed_demo_risks
from app.risks.models import Risk, RiskAction, RiskCategory, RiskScore
from app.seed import seed_demo
from app.timeutil import utcnow


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_demo_register_is_meaningful_and_loads_once(app):
    seed_demo()
    risks = db.session.scalars(select(Risk)).all()
    assert 24 <= len(risks) <= 30
    assert {risk.category for risk in risks} == set(RiskCategory)
    assert {risk.status.value for risk in risks} == {"open", "mitigating", "mitigated", "closed", "accepted"}
    assert {risk.level.value for risk in risks} >= {"medium", "high", "critical"}
    assert count(RiskAction) >= 20
    oldest = db.session.scalar(select(func.min(RiskScore.valid_from)))
    assert utcnow() - oldest >= timedelta(weeks=8) - timedelta(days=1)

    trend = history.open_trend(zone="America/Los_Angeles")
    assert sum(1 for point in trend if point.total) >= 8 and trend[-1].total >= 20
    past = db.session.scalars(select(RiskReview).order_by(RiskReview.week_start)).all()
    assert len(past) == 3 and all(review.status == ReviewStatus.FINISHED and review.items for review in past)

    review, created = build_review()
    reasons = {reason for item in review.items for reason in item.reasons}
    assert created and 8 <= len(review.items) <= 20
    assert {"new", "score_changed", "action_overdue", "review_due", "acceptance_expiring"} <= reasons

    before = (count(Risk), count(RiskScore), count(RiskAction))
    assert seed_demo_risks() == 0
    seed_demo()
    assert (count(Risk), count(RiskScore), count(RiskAction)) == before


def test_the_demo_history_is_on_the_risk_pages(app, login_as):
    seed_demo()
    client = login_as("executive")
    first = db.session.scalar(select(func.min(Risk.id)))
    page = client.get(f"/risks/{first}").get_data(as_text=True)
    trail = page[page.index('data-testid="history"'):]
    assert trail.count("<strong>update</strong>") >= 2 and "<strong>create</strong>" in trail
    assert page.count("<td>created</td>") == 1 and 'data-testid="risk-reviews"' in page
