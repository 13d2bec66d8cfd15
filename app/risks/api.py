"""API: /api/v1/risks — the register (same filters and sorts as the page), one risk, create, change, status
transitions, review, comments, CSV export and import, and the grid. Actions: action_api.py.

Everyone reads; the crisis team and administrators write.
"""
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
from app.extensions import db
from app.forms_common import form_values
from app.risks import actions, cadence, history, register, services, workflow
from app.risks import register_csv
from app.csvio import ImportReport
from app.risks.register_csv import import_csv
from app.risks.forms import CommentForm, ImportApiForm, RiskForm, TransitionForm
from app.risks.models import Risk, RiskAction
from app.risks.scoring import current_settings
from app.views_common import page_args

_DATE = {"type": ["string", "null"], "format": "date"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_SCORE = {"type": "object", "properties": {"likelihood": {"type": "integer"}, "impact": {"type": "integer"},
                                           "score": {"type": "integer"}, "level": {"type": "string"}}}
ACTION_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "risk_id": {"type": "integer"}, "description": {"type": "string"},
    "owner_id": {"type": ["integer", "null"]}, "owner_name": {"type": ["string", "null"]}, "due_on": _DATE,
    "status": {"type": "string", "enum": ["todo", "doing", "done", "dropped"]}, "drop_reason": {"type": "string"},
    "completed_at": _TIME, "overdue": {"type": "boolean"},
    "due_after_close": {"type": "boolean", "description": "pending and due after the threatened quarter's last day"}}}
RISK_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "reference": {"type": "string"}, "title": {"type": "string"},
    "description": {"type": "string"}, "category": {"type": "string"}, "source": {"type": "string"},
    "owner_id": {"type": ["integer", "null"]}, "owner_name": {"type": ["string", "null"]},
    "quarter": {"type": "string", "description": "the quarter it threatens, e.g. Q4 FY27"},
    "exposure": {"type": ["string", "null"], "description": "amount at risk, decimal as text"},
    "inherent": _SCORE, "residual": _SCORE, "level": {"type": "string"},
    "status": {"type": "string", "enum": ["open", "mitigating", "mitigated", "closed", "accepted"]},
    "close_reason": {"type": "string"},
    "acceptance": {"type": ["object", "null"], "properties": {
        "approver_id": {"type": ["integer", "null"]}, "approver_name": {"type": ["string", "null"]},
        "reason": {"type": "string"}, "expires_on": _DATE}},
    "escalated_at": _TIME, "last_reviewed_at": _TIME, "next_review_on": _DATE, "review_overdue": {"type": "boolean"},
    "actions_pending": {"type": "integer"}, "actions_overdue": {"type": "integer"},
    "created_at": _TIME, "updated_at": _TIME,
    "actions": {"type": "array", "items": ACTION_SCHEMA, "description": "one risk only"},
    "links": {"type": "array", "description": "one risk only: {kind, target_id, label}"},
    "history": {"type": "array", "description": "one risk only: score, level and status periods, oldest first"}}}
PAGE_SCHEMA = {"type": "object", "properties": {
    "items": {"type": "array", "items": RISK_SCHEMA}, "page": {"type": "integer"}, "pages": {"type": "integer"},
    "total": {"type": "integer"}}}
IMPORT_SCHEMA = {"type": "object", "properties": {
    "applied": {"type": "boolean"}, "errors": {"type": "integer"},
    "counts": {"type": "object", "description": "create / update / unchanged / error -> rows"},
    "rows": {"type": "array", "items": {"type": "object", "properties": {
        "line": {"type": "integer"}, "action": {"type": "string"}, "id": {"type": ["integer", "null"]},
        "label": {"type": "string"}, "errors": {"type": "object", "description": "column -> message"}}}}}}
LIST_QUERY = {"status": "live|open|mitigating|mitigated|closed|accepted", "level": "low|medium|high|critical",
              "owner_id": "a person's id", "category": "a category", "quarter": "fiscal year and quarter: 2027-4",
              "overdue": "review|action", "likelihood": "1..5 (residual)", "impact": "1..5 (residual)",
              "q": "words in the title or description", "sort": "|".join(register.SORTS), "page": "1..",
              "per_page": "1..200"}
IMPORT_REFUSED = {"anyOf": [IMPORT_SCHEMA, {"$ref": "#/components/schemas/Error"}]}


def iso(value) -> str | None:
    return value.isoformat() if value else None


def _score(likelihood: int, impact: int, level) -> dict[str, Any]:
    return {"likelihood": likelihood, "impact": impact, "score": likelihood * impact, "level": level.value}


def action_json(action: RiskAction, today) -> dict[str, Any]:
    return {"id": action.id, "risk_id": action.risk_id, "description": action.description,
            "owner_id": action.owner_id, "owner_name": action.owner.name if action.owner else None,
            "due_on": iso(action.due_on), "status": action.status.value, "drop_reason": action.drop_reason,
            "completed_at": iso(action.completed_at), "overdue": actions.is_overdue(action, today),
            "due_after_close": actions.is_after_close(action)}


def risk_json(risk: Risk, today, counts: tuple[int, int] = (0, 0), detail: bool = False) -> dict[str, Any]:
    body = {
        "id": risk.id, "reference": f"R-{risk.id}", "title": risk.title, "description": risk.description,
        "category": risk.category.value, "source": risk.source.value, "owner_id": risk.owner_id,
        "owner_name": risk.owner.name if risk.owner else None, "quarter": risk.quarter_label,
        "exposure": str(risk.exposure) if risk.exposure is not None else None,
        "inherent": _score(risk.inherent_likelihood, risk.inherent_impact, risk.inherent_level),
        "residual": _score(risk.likelihood, risk.impact, risk.level), "level": risk.level.value,
        "status": risk.status.value, "close_reason": risk.close_reason,
        "acceptance": {"approver_id": risk.accepted_by_id,
                       "approver_name": risk.accepted_by.name if risk.accepted_by else None,
                       "reason": risk.acceptance_reason, "expires_on": iso(risk.acceptance_expires_on)}
        if risk.status.value == "accepted" else None,
        "escalated_at": iso(risk.escalated_at), "last_reviewed_at": iso(risk.last_reviewed_at),
        "next_review_on": iso(risk.next_review_on), "review_overdue": cadence.is_review_overdue(risk, today),
        "actions_pending": counts[0], "actions_overdue": counts[1], "created_at": iso(risk.created_at),
        "updated_at": iso(risk.updated_at)}
    if detail:
        body["actions"] = [action_json(action, today) for action in risk.actions]
        body["links"] = [{"id": link.id, "kind": link.kind, "target_id": link.target_id, "label": link.label}
                         for link in risk.links]
        body["history"] = [{"from": iso(p.valid_from), "to": iso(p.valid_to), "status": p.status.value,
                            "level": p.level.value, "inherent_likelihood": p.inherent_likelihood,
                            "inherent_impact": p.inherent_impact, "likelihood": p.likelihood, "impact": p.impact,
                            "cause": p.cause, "by": p.actor_label} for p in history.score_history(risk)]
    return body


def one_risk(risk: Risk, status: int = 200):
    today = cadence.team_today(current_settings())
    counts = actions.action_counts([risk.id], today).get(risk.id, (0, 0))
    return jsonify(risk_json(risk, today, counts, detail=True)), status


@bp.get("/risks")
@allow(EVERYONE)
@api_doc("The risk register, filtered and sorted like the register page; paginated", response=PAGE_SCHEMA,
         query=LIST_QUERY, tag="risks")
def list_risks():
    today = cadence.team_today(current_settings())
    sort = request.args.get("sort") if request.args.get("sort") in register.SORTS else register.DEFAULT_SORT
    page, per_page = page_args()
    listing = db.paginate(register.register_query(register.parse_filter(request.args), today, sort), page=page,
                          per_page=per_page, error_out=False)
    counts = actions.action_counts([risk.id for risk in listing.items], today)
    return jsonify({"items": [risk_json(risk, today, counts.get(risk.id, (0, 0))) for risk in listing.items],
                    "page": listing.page, "pages": listing.pages, "total": listing.total})


@bp.post("/risks")
@allow(EDITORS)
@api_doc("Add a risk (open); its levels come from the grid", request=RiskForm, response=RISK_SCHEMA, status=201,
         tag="risks")
def create_risk():
    form = load_form(RiskForm)
    return one_risk(services.create_risk(**form_values(form)), 201)


@bp.get("/risks/<int:risk_id>")
@allow(EVERYONE)
@api_doc("One risk with its actions, links and score history", response=RISK_SCHEMA, tag="risks")
def get_risk(risk_id: int):
    return one_risk(services.get_risk(risk_id))


@bp.patch("/risks/<int:risk_id>")
@allow(EDITORS)
@api_doc("Change a risk; fields left out keep their value", request=RiskForm, response=RISK_SCHEMA, tag="risks")
def update_risk(risk_id: int):
    risk = services.get_risk(risk_id)
    form = load_form(RiskForm, obj=SimpleNamespace(**services.risk_fields(risk)), partial=True)
    return one_risk(services.update_risk(risk, **form_values(form)))


@bp.post("/risks/<int:risk_id>/transitions")
@allow(EDITORS)
@api_doc("Change a risk's status: start, mitigated, accept (you approve; not your own risk; reason and expiry), "
         "close (reason) or reopen", request=TransitionForm, response=RISK_SCHEMA, tag="risks")
def transition_risk(risk_id: int):
    risk = services.get_risk(risk_id)
    form = load_form(TransitionForm)
    return one_risk(workflow.change_status(risk, actor=current_user, **form_values(form)))


@bp.post("/risks/<int:risk_id>/reviewed")
@allow(EDITORS)
@api_doc("Record that the risk was reviewed now (its next review moves a cadence ahead)", response=RISK_SCHEMA,
         tag="risks")
def review_risk(risk_id: int):
    return one_risk(services.mark_risk_reviewed(services.get_risk(risk_id)))


@bp.post("/risks/<int:risk_id>/comments")
@allow(EDITORS)
@api_doc("Comment on a risk", request=CommentForm, status=201, tag="risks", response={
    "type": "object", "properties": {"id": {"type": "integer"}, "author": {"type": "string"},
                                     "body": {"type": "string"}, "created_at": _TIME}})
def comment_risk(risk_id: int):
    risk = services.get_risk(risk_id)
    form = load_form(CommentForm)
    comment = services.add_comment(risk, author=current_user, body=form.body.data)
    return jsonify({"id": comment.id, "author": comment.author_name, "body": comment.body,
                    "created_at": iso(comment.created_at)}), 201


@bp.get("/risks/export")
@allow(EVERYONE)
@api_doc("The whole register as CSV text (the import takes it back unchanged)", tag="risks",
         response={"type": "object", "properties": {"csv": {"type": "string"}}})
def export_risks():
    return jsonify({"csv": register_csv.export_csv()})


def report_json(report: ImportReport) -> dict[str, Any]:
    return {"applied": report.applied, "errors": report.error_count,
            "counts": {action: report.count(action) for action in ("create", "update", "unchanged", "error")},
            "rows": [{"line": row.line, "action": row.action, "id": row.record_id, "label": row.label,
                      "errors": row.errors} for row in report.rows]}


@bp.post("/risks/import")
@allow(EDITORS)
@api_doc("Import a register CSV: a dry run listing each row's errors unless confirm is true; with confirm, every "
         "row is applied or (when one is refused: 422) none", request=ImportApiForm, response=IMPORT_SCHEMA,
         tag="risks", also={422: ("A row was refused: the report, nothing applied; or a field is invalid", IMPORT_REFUSED)})
def import_risks():
    form = load_form(ImportApiForm)
    report = import_csv(text=form.csv.data, apply=bool(form.confirm.data))
    return jsonify(report_json(report)), 422 if report.error_count else 200


@bp.get("/risks/settings")
@allow(EVERYONE)
@api_doc("The level grid (grid[likelihood-1][impact-1]), review cadence in days per level and the review slot",
         tag="risks", response={"type": "object", "properties": {
             "grid": {"type": "array"}, "cadence_days": {"type": "object"}, "stale_days": {"type": "integer"},
             "review": {"type": "object"}}})
def risk_settings():
    settings = current_settings()
    return jsonify({"grid": settings.grid,
                    "cadence_days": {level: settings.cadence_days(level)
                                     for level in ("critical", "high", "medium", "low")},
                    "stale_days": settings.stale_days,
                    "review": {"weekday": settings.review_weekday, "time": settings.review_time.strftime("%H:%M"),
                               "time_zone": settings.review_zone}})
