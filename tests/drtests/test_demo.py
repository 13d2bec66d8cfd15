"""The demo ERP failover/failback template, its exercise, and the runbook that describes the same procedure."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from app.drtests.demo import DEMO_STEPS, DEMO_TEMPLATE, seed_demo_drtests
from app.drtests.models import DrExercise, DrTemplate
from app.extensions import db
from app.seed import seed_demo

RUNBOOK = Path(__file__).resolve().parents[2] / "runbooks" / "erp-failover-failback.md"


def test_the_demo_seeds_the_erp_template_and_an_exercise_once(app):
    seed_demo()
    seed_demo_drtests()
    names = sorted(db.session.scalars(select(DrTemplate.name)))
    assert names == [DEMO_TEMPLATE, "Quarterdeck database restore drill"]  # seeded once, however often it runs
    template = db.session.scalars(select(DrTemplate).where(DrTemplate.name == DEMO_TEMPLATE)).one()
    assert len(template.steps) == len(DEMO_STEPS)
    assert {s.phase.value for s in template.steps} == {"prepare", "failover", "validate", "failback", "close"}
    assert db.session.scalar(select(func.count(DrExercise.id))) == 1
    exercise = db.session.scalars(select(DrExercise)).one()
    assert exercise.owner.email == "crisis@acme.example" and len(exercise.participants) == 2
    from app.drtests import continuity
    assert [p.name for p in continuity.list_plans()] == ["Order fulfilment", "Strategic sourcing"]
    assert len(continuity.list_sites()) == 2


def test_the_runbook_has_the_front_matter_and_every_step_of_the_template():
    text = RUNBOOK.read_text()
    header = text.split("---")[1]
    assert "title: " in header and "owner: crisis@acme.example" in header and "review_every: " in header
    assert f'drtests: ["{DEMO_TEMPLATE}"]' in header  # the runbook covers the template (the catalog report)
    for number, step in enumerate(DEMO_STEPS, 1):
        assert f"### {number}. {step[0]}" in text
