"""API: /api/v1/drtests — templates and steps, exercises with their step transitions, evidence links,
the replication point, sign-off, and findings. Everyone reads; the same services as the pages decide the rest."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import jsonify, request
from flask_login import current_user

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import load_form
from app.auth.roles import EDITORS, EVERYONE
from app.drtests import evidence, exercises, execution, findings, templates
from app.drtests.exercises import EXECUTORS
from app.drtests.forms import (CompleteForm, EscalateForm, ExerciseEditForm, ExerciseForm, FindingForm,
                               FindingStatusForm, LinkForm, ReplicationForm, SkipForm, StepForm, StepMoveForm,
                               TemplateForm, VersionForm)
from app.drtests.models import DrExercise, DrTemplate, ExerciseStep, Finding
from app.drtests.results import figures
from app.extensions import db
from app.forms_common import form_values
from app.timeutil import utcnow
from app.views_common import page_args

TAG = "drtests"
STEP_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "position": {"type": "integer"}, "title": {"type": "string"},
    "instructions": {"type": "string"}, "owner": {"type": "string"}, "expected_minutes": {"type": "integer"},
    "phase": {"type": "string"}, "depends_on": {"type": "array", "items": {"type": "integer"}},
    "counts_toward_recovery": {"type": "boolean"}, "evidence_required": {"type": "boolean"},
    "critical": {"type": "boolean"}}}
TEMPLATE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "systems": {"type": "string"},
    "description": {"type": "string"}, "rto_minutes": {"type": "integer"}, "rpo_minutes": {"type": "integer"},
    "version": {"type": "integer"}, "steps": {"type": "array", "items": STEP_SCHEMA}}}
RUN_STEP_SCHEMA = {"type": "object", "properties": {
    **STEP_SCHEMA["properties"], "state": {"type": "string"}, "outcome": {"type": ["string", "null"]},
    "version": {"type": "integer", "description": "send it back with a transition; a stale one answers 409"},
    "started_at": {"type": ["string", "null"]}, "completed_at": {"type": ["string", "null"]},
    "skip_reason": {"type": "string"}, "notes": {"type": "string"}, "evidence": {"type": "integer"}}}
FINDING_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "exercise_id": {"type": "integer"}, "title": {"type": "string"},
    "severity": {"type": "string"}, "status": {"type": "string"}, "owner_id": {"type": ["integer", "null"]},
    "due_date": {"type": ["string", "null"]}, "risk_ref": {"type": ["string", "null"]}}}
EXERCISE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"},
    "quarter": {"type": "string"}, "template_id": {"type": ["integer", "null"]},
    "template_version": {"type": "integer"}, "version": {"type": "integer"},
    "scheduled_for": {"type": "string"}, "owner_id": {"type": ["integer", "null"]},
    "participant_ids": {"type": "array", "items": {"type": "integer"}},
    "signed_off_at": {"type": ["string", "null"]}, "result": {"type": "string"},
    "figures": {"type": "object", "description": "seconds: recovery, failback, data_loss; targets in minutes"},
    "steps": {"type": "array", "items": RUN_STEP_SCHEMA}, "findings": {"type": "array", "items": FINDING_SCHEMA}}}


def iso(value) -> str | None:
    return value.isoformat() if value else None


def _step_json(step) -> dict[str, Any]:
    values = templates.step_fields(step)
    return {"id": step.id, "position": step.position, **values, "phase": step.phase.value,
            "depends_on": step.dependency_positions}


def template_json(template: DrTemplate) -> dict[str, Any]:
    return {"id": template.id, **templates.template_fields(template), "version": template.version,
            "steps": [_step_json(s) for s in template.steps]}


def run_step_json(step: ExerciseStep) -> dict[str, Any]:
    return {**_step_json(step), "state": step.state.value, "outcome": step.outcome.value if step.outcome else None,
            "version": step.version, "started_at": iso(step.started_at), "completed_at": iso(step.completed_at),
            "skip_reason": step.skip_reason, "notes": step.notes, "evidence": len(step.evidence)}


def finding_json(finding: Finding) -> dict[str, Any]:
    return {"id": finding.id, "exercise_id": finding.exercise_id, "title": finding.title,
            "description": finding.description, "severity": finding.severity.value, "status": finding.status.value,
            "owner_id": finding.owner_id, "due_date": iso(finding.due_date), "risk_ref": finding.risk_ref}


def _seconds(value) -> int | None:
    return None if value is None else int(value.total_seconds())


def exercise_json(exercise: DrExercise) -> dict[str, Any]:
    computed = figures(exercise, now=utcnow())
    return {"id": exercise.id, "name": exercise.name, "kind": exercise.kind.value, "quarter": exercise.quarter_label,
            "template_id": exercise.template_id, "template_version": exercise.template_version,
            "version": exercise.version, "scheduled_for": iso(exercise.scheduled_for),
            "owner_id": exercise.owner_id, "participant_ids": [p.user_id for p in exercise.participants],
            "last_replicated_at": iso(exercise.last_replicated_at), "signed_off_at": iso(exercise.signed_off_at),
            "result": (exercise.result or computed.result).value, "reasons": computed.reasons,
            "figures": {"recovery_seconds": _seconds(computed.recovery),
                        "failback_seconds": _seconds(computed.failback),
                        "data_loss_seconds": _seconds(computed.data_loss), "rto_minutes": exercise.rto_minutes,
                        "rpo_minutes": exercise.rpo_minutes},
            "steps": [run_step_json(s) for s in exercise.steps],
            "findings": [finding_json(f) for f in exercise.findings]}


def _page(query, to_json) -> dict[str, Any]:
    page, per_page = page_args()
    listing = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return {"items": [to_json(item) for item in listing.items], "page": listing.page, "pages": listing.pages,
            "total": listing.total}


@bp.get("/drtests/templates")
@allow(EVERYONE)
@api_doc("DR test templates with their steps", response={"type": "array", "items": TEMPLATE_SCHEMA}, tag=TAG)
def list_dr_templates():
    return jsonify([template_json(t) for t in templates.list_templates()])


@bp.post("/drtests/templates")
@allow(EDITORS)
@api_doc("Create a DR test template (version 1, no steps)", request=TemplateForm, response=TEMPLATE_SCHEMA,
         status=201, tag=TAG)
def create_dr_template():
    form = load_form(TemplateForm)
    return jsonify(template_json(templates.create_template(**form_values(form)))), 201


@bp.get("/drtests/templates/<int:template_id>")
@allow(EVERYONE)
@api_doc("One DR test template", response=TEMPLATE_SCHEMA, tag=TAG)
def get_dr_template(template_id: int):
    return jsonify(template_json(templates.get_template(template_id)))


@bp.post("/drtests/templates/<int:template_id>/steps")
@allow(EDITORS)
@api_doc("Append a step (its version goes up)", request=StepForm, response=TEMPLATE_SCHEMA, status=201, tag=TAG)
def add_dr_template_step(template_id: int):
    template = templates.get_template(template_id)
    form = load_form(StepForm)
    templates.add_step(template, **form_values(form))
    return jsonify(template_json(template)), 201


@bp.post("/drtests/templates/<int:template_id>/steps/<int:step_id>/move")
@allow(EDITORS)
@api_doc("Swap a step with the one above or below (409 when it would come before a step it depends on)",
         request=StepMoveForm, response=TEMPLATE_SCHEMA, tag=TAG)
def move_dr_template_step(template_id: int, step_id: int):
    template = templates.get_template(template_id)
    templates.move_step(templates.get_step(template, step_id), direction=load_form(StepMoveForm).direction.data)
    return jsonify(template_json(template))


@bp.get("/drtests/exercises")
@allow(EVERYONE)
@api_doc("DR exercises, latest first; paginated", response={"type": "object"},
         query={"template_id": "only this template's", "page": "1..", "per_page": "1..200"}, tag=TAG)
def list_dr_exercises():
    return jsonify(_page(exercises.exercises_query(template_id=request.args.get("template_id", type=int)),
                         exercise_json))


@bp.post("/drtests/exercises")
@allow(EDITORS)
@api_doc("Schedule an exercise from a template's current version", request=ExerciseForm, response=EXERCISE_SCHEMA,
         status=201, tag=TAG)
def create_dr_exercise():
    values = form_values(load_form(ExerciseForm))
    template = templates.get_template(values.pop("template_id"))
    return jsonify(exercise_json(exercises.schedule_exercise(template=template, **values))), 201


@bp.patch("/drtests/exercises/<int:exercise_id>")
@allow(EDITORS)
@api_doc("Reschedule an exercise or change its type, name, owner or participants (409 once a step started); "
         "fields left out keep their value", request=ExerciseEditForm, response=EXERCISE_SCHEMA, tag=TAG)
def update_dr_exercise(exercise_id: int):
    item = exercises.get_exercise(exercise_id)
    current = {"kind": item.kind.value, "name": item.name, "scheduled_for": item.scheduled_for,
               "fiscal_year": item.fiscal_year, "quarter": item.quarter, "owner_id": item.owner_id,
               "participant_ids": [p.user_id for p in item.participants]}
    values = form_values(load_form(ExerciseEditForm, obj=SimpleNamespace(**current), partial=True))
    return jsonify(exercise_json(exercises.update_exercise(item, **values)))


@bp.delete("/drtests/exercises/<int:exercise_id>")
@allow(EDITORS)
@api_doc("Cancel (remove) an exercise that has not started; 409 once a step started", response={"type": "object"},
         tag=TAG)
def cancel_dr_exercise(exercise_id: int):
    exercises.cancel_exercise(exercises.get_exercise(exercise_id))
    return jsonify({"deleted": exercise_id})


@bp.get("/drtests/exercises/<int:exercise_id>")
@allow(EVERYONE)
@api_doc("One exercise: steps, computed figures and result, findings", response=EXERCISE_SCHEMA, tag=TAG)
def get_dr_exercise(exercise_id: int):
    return jsonify(exercise_json(exercises.get_exercise(exercise_id)))


def _transition(exercise_id: int, step_id: int, form_class, transition):
    step = execution.get_step(exercises.get_exercise(exercise_id), step_id)
    form = load_form(form_class)
    return jsonify(run_step_json(transition(step, user=current_user, **form_values(form))))


@bp.post("/drtests/exercises/<int:exercise_id>/steps/<int:step_id>/start")
@allow(EXECUTORS)
@api_doc("Start a step whose dependencies are finished; send the step's version (a stale one answers 409)",
         request=VersionForm, response=RUN_STEP_SCHEMA, tag=TAG)
def start_dr_step(exercise_id: int, step_id: int):
    return _transition(exercise_id, step_id, VersionForm, execution.start_step)


@bp.post("/drtests/exercises/<int:exercise_id>/steps/<int:step_id>/complete")
@allow(EXECUTORS)
@api_doc("Complete a running step with its outcome", request=CompleteForm, response=RUN_STEP_SCHEMA, tag=TAG)
def complete_dr_step(exercise_id: int, step_id: int):
    return _transition(exercise_id, step_id, CompleteForm, execution.complete_step)


@bp.post("/drtests/exercises/<int:exercise_id>/steps/<int:step_id>/skip")
@allow(EXECUTORS)
@api_doc("Skip a step, with the reason", request=SkipForm, response=RUN_STEP_SCHEMA, tag=TAG)
def skip_dr_step(exercise_id: int, step_id: int):
    return _transition(exercise_id, step_id, SkipForm, execution.skip_step)


@bp.post("/drtests/exercises/<int:exercise_id>/steps/<int:step_id>/evidence")
@allow(EXECUTORS)
@api_doc("Add a link as evidence to a step (files are uploaded through the page)", request=LinkForm,
         response=RUN_STEP_SCHEMA, status=201, tag=TAG)
def add_dr_step_evidence(exercise_id: int, step_id: int):
    step = execution.get_step(exercises.get_exercise(exercise_id), step_id)
    form = load_form(LinkForm)
    evidence.add_link(step, user=current_user, **form_values(form))
    return jsonify(run_step_json(step)), 201


@bp.post("/drtests/exercises/<int:exercise_id>/replication")
@allow(EXECUTORS)
@api_doc("Record the last replicated transaction time (with its UTC offset)", request=ReplicationForm, response=EXERCISE_SCHEMA,
         tag=TAG)
def record_dr_replication(exercise_id: int):
    exercise = exercises.get_exercise(exercise_id)
    form = load_form(ReplicationForm)
    exercises.record_replication(exercise, user=current_user, version=form.version.data,
                                 last_replicated_at=form.last_replicated_at.data)
    return jsonify(exercise_json(exercise))


@bp.post("/drtests/exercises/<int:exercise_id>/signoff")
@allow(EVERYONE)
@api_doc("Sign the exercise off (its owner only); the record is frozen after", request=VersionForm,
         response=EXERCISE_SCHEMA, tag=TAG)
def sign_off_dr_exercise(exercise_id: int):
    exercise = exercises.get_exercise(exercise_id)
    form = load_form(VersionForm)
    return jsonify(exercise_json(exercises.sign_off(exercise, user=current_user, version=form.version.data)))


@bp.get("/drtests/findings")
@allow(EVERYONE)
@api_doc("Findings of every exercise, by due date; paginated", response={"type": "object"},
         query={"status": "open|in_progress|closed|to_risk|action", "page": "1..", "per_page": "1..200"}, tag=TAG)
def list_dr_findings():
    status = request.args.get("status") or None
    if status and status not in {s.value for s in findings.FindingStatus}:
        status = None
    return jsonify(_page(findings.findings_query(status=status), finding_json))


@bp.post("/drtests/exercises/<int:exercise_id>/findings")
@allow(EXECUTORS)
@api_doc("Record a finding", request=FindingForm, response=FINDING_SCHEMA, status=201, tag=TAG)
def add_dr_finding(exercise_id: int):
    exercise = exercises.get_exercise(exercise_id)
    form = load_form(FindingForm)
    return jsonify(finding_json(findings.add_finding(exercise, **form_values(form)))), 201


@bp.post("/drtests/findings/<int:finding_id>/status")
@allow(EXECUTORS)
@api_doc("Change a finding's status", request=FindingStatusForm, response=FINDING_SCHEMA, tag=TAG)
def set_dr_finding_status(finding_id: int):
    finding = findings.get_finding(finding_id)
    form = load_form(FindingStatusForm)
    return jsonify(finding_json(findings.update_finding(finding, status=form.status.data)))


@bp.post("/drtests/findings/<int:finding_id>/escalate")
@allow(EDITORS)
@api_doc("Turn a finding into a risk (handed to the risk register) or a mitigation action", request=EscalateForm,
         response=FINDING_SCHEMA, tag=TAG)
def escalate_dr_finding(finding_id: int):
    finding = findings.get_finding(finding_id)
    form = load_form(EscalateForm)
    return jsonify(finding_json(findings.escalate(finding, **form_values(form))))
