"""URL values for the route walk in tests/test_access.py: a DR template, a signed-off exercise (so writes answer
409, not 403, for every role allowed to make them), a step, a file of evidence, a finding,
a continuity plan and a site."""
from __future__ import annotations

import tempfile
from datetime import timedelta

from flask import current_app

from app.drtests import continuity, evidence, exercises, execution, findings, templates
from app.timeutil import utcnow


def walk_drtest_values(owner) -> dict[str, int]:
    current_app.config["DRTEST_EVIDENCE_DIR"] = tempfile.mkdtemp(prefix="drtest-walk-")
    template = templates.create_template(name="Walk DR template", rto_minutes=60, rpo_minutes=15)
    templates.add_step(template, title="Walk step", phase="failover", expected_minutes=5)
    exercise = exercises.schedule_exercise(template=template, kind="tabletop",
                                           scheduled_for=utcnow() + timedelta(days=1), owner_id=owner.id)
    step = exercise.steps[0]
    execution.start_step(step, user=owner, version=step.version)
    record = evidence.add_file(step, user=owner, filename="walk.txt", data=b"walked")
    execution.complete_step(step, user=owner, version=step.version, outcome="ok")
    finding = findings.add_finding(exercise, title="Walk finding", severity="low")
    exercises.sign_off(exercise, user=owner, version=exercise.version)
    site = continuity.save_site(None, name="Walk site", city="Manila", time_zone="Asia/Manila", capacity=10)
    plan = continuity.save_plan(None, name="Walk plan", site_ids=[site.id])
    # step_id names the template's step: the exercise step routes are POSTs only, where a 404 is not a refusal.
    return {"plan_id": plan.id, "site_id": site.id, "template_id": template.id, "exercise_id": exercise.id,
            "step_id": template.steps[0].id,
            "evidence_id": record.id, "finding_id": finding.id}
