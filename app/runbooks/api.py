"""API: /api/v1/runbooks (the catalog, one runbook with its HTML and steps, the report) and reviews, runs and
acknowledgements. Everyone reads; reviews are the owner's or the crisis team's; runs are for who acts on alerts."""
from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import ApiError, json_body, load_form
from app.auth.roles import EVERYONE
from app.runbooks import catalog, reviews, runs, services
from app.runbooks.catalog import FLAGS, CatalogEntry
from app.runbooks.forms import ReviewForm, RunApiForm
from app.runbooks.report import MEASURES, build_report, trend
from app.runbooks.services import RUNNERS

_DATE = {"type": ["string", "null"], "format": "date"}
RUNBOOK_SCHEMA = {"type": "object", "properties": {
    "slug": {"type": "string"}, "title": {"type": "string"}, "path": {"type": "string"},
    "owner": {"type": "string", "description": "the owner's email, as the front matter names it"},
    "next_review_on": _DATE, "last_reviewed_on": _DATE,
    "review_state": {"type": "string", "enum": ["current", "due", "overdue", "retired", "unknown"]},
    "version": {"type": ["string", "null"]}, "content_hash": {"type": "string"}, "valid": {"type": "boolean"},
    "invalid_reason": {"type": ["string", "null"]}, "invalid_line": {"type": ["integer", "null"]},
    "systems": {"type": "array", "items": {"type": "string"}}, "jobs": {"type": "array", "items": {"type": "string"}},
    "alerts": {"type": "array", "items": {"type": "string"}},
    "runs": {"type": "integer", "description": "finished runs over the last four fiscal quarters"},
    "error_rate": {"type": ["number", "null"], "description": "(failed + with deviations) / runs"},
    "failing_step": {"type": ["string", "null"]},
    "flags": {"type": "array", "items": {"type": "string", "enum": list(FLAGS)}}}}
STEP_SCHEMA = {"type": "object", "properties": {"position": {"type": "integer"}, "title": {"type": "string"},
                                                 "html": {"type": "string"}}}
DETAIL_SCHEMA = {"type": "object", "properties": {**RUNBOOK_SCHEMA["properties"], "html": {"type": "string"},
                                                   "steps": {"type": "array", "items": STEP_SCHEMA}}}
REPORT_SCHEMA = {"type": "object", "properties": {
    "quarter": {"type": "string"}, "failing": {"type": "boolean", "description": "invalid, broken or overdue"},
    "counts": {"type": "object"}, **{name: {"type": "array"} for name in MEASURES},
    "trend": {"type": "array", "items": {"type": "object"}}}}
RUN_STEPS = {"steps": {"type": "array", "description": "each step's mark", "items": {"type": "object", "properties": {
    "position": {"type": "integer", "minimum": 1},
    "outcome": {"type": "string", "enum": ["done", "skipped", "failed"]}}, "required": ["position", "outcome"]}}}


def runbook_json(entry: CatalogEntry) -> dict[str, Any]:
    runbook = entry.runbook
    return {"slug": runbook.slug, "title": runbook.title, "path": runbook.path, "owner": runbook.owner_email,
            "next_review_on": entry.next_review_on.isoformat() if entry.next_review_on else None,
            "last_reviewed_on": entry.last_reviewed_on.isoformat() if entry.last_reviewed_on else None,
            "review_state": entry.review_state, "version": runbook.field("version"),
            "content_hash": runbook.content_hash, "valid": runbook.valid,
            "invalid_reason": runbook.invalid_reason or None, "invalid_line": runbook.invalid_line,
            "systems": runbook.names("systems"), "jobs": runbook.names("jobs"), "alerts": runbook.names("alerts"),
            "runs": entry.stats.runs, "error_rate": round(entry.stats.rate, 4) if entry.stats.runs else None,
            "failing_step": entry.stats.failing_step, "flags": entry.flags}


@bp.get("/runbooks")
@allow(EVERYONE)
@api_doc("Every runbook in RUNBOOKS_DIR with its review state, error rate and flags", tag="runbooks",
         response={"type": "object", "properties": {"items": {"type": "array", "items": RUNBOOK_SCHEMA}}})
def list_runbooks():
    return jsonify({"items": [runbook_json(entry) for entry in catalog.catalog_entries()]})


@bp.get("/runbooks/report")
@allow(EVERYONE)
@api_doc("The catalog report: unlisted, undocumented, error rate, broken links, overdue, invalid, orphaned, "
         "duplicate titles; with the counts of earlier quarters", response=REPORT_SCHEMA, tag="runbooks")
def runbook_report():
    report = build_report()
    return jsonify({
        "quarter": report.quarter.label, "failing": report.failing, "counts": report.counts(),
        "unlisted": [{"slug": e.slug, "path": e.runbook.path} for e in report.unlisted],
        "undocumented": [{"kind": u.kind, "name": u.name} for u in report.undocumented],
        "error_rate": [{"slug": e.slug, "runs": e.stats.runs, "failed": e.stats.failed,
                        "deviations": e.stats.deviations, "rate": round(e.stats.rate or 0, 4),
                        "failing_step": e.stats.failing_step, "needs_review": "needs_review" in e.flags}
                       for e in report.error_rate],
        "broken_links": [{"source": b.source, "target": b.target, "line": b.line} for b in report.broken_links],
        "review_overdue": [{"slug": e.slug, "next_review_on": e.next_review_on.isoformat()}
                           for e in report.review_overdue],
        "invalid": [{"path": e.runbook.path, "reason": e.runbook.invalid_reason, "line": e.runbook.invalid_line}
                    for e in report.invalid],
        "orphaned": [{"slug": e.slug, "owner": e.runbook.owner_email} for e in report.orphaned],
        "duplicate_titles": [{"title": title, "paths": [e.runbook.path for e in group]}
                             for title, group in report.duplicate_titles],
        "trend": [{"quarter": quarter.label, **counts} for quarter, counts in trend()]})


@bp.get("/runbooks/<slug>")
@allow(EVERYONE)
@api_doc("One runbook: its index entry, its sanitised HTML and its numbered steps", response=DETAIL_SCHEMA,
         tag="runbooks")
def get_runbook(slug: str):
    runbook = services.get_runbook(slug)
    reading = services.read_runbook(runbook)
    document = reading.document
    return jsonify({**runbook_json(catalog.entry_for(runbook)), "html": str(document.html) if document else "",
                    "steps": [{"position": s.position, "title": s.title, "html": str(s.html)}
                              for s in (document.steps if document else [])]})


@bp.post("/runbooks/<slug>/reviews")
@allow(EVERYONE)
@api_doc("Record a review of the current version (its owner or the crisis team)", request=ReviewForm, status=201,
         tag="runbooks", response={"type": "object"})
def post_review(slug: str):
    runbook = services.get_runbook(slug)
    if not reviews.may_review(current_user, runbook):
        raise ApiError(403, "Only the runbook's owner or the crisis team can review it.")
    form = load_form(ReviewForm)
    review = reviews.record_review(runbook, by=current_user, outcome=form.outcome.data, note=form.note.data)
    return jsonify({"id": review.id, "outcome": review.outcome, "content_hash": review.content_hash,
                    "at": review.at.isoformat(), **runbook_json(catalog.entry_for(runbook))}), 201


@bp.post("/runbooks/<slug>/runs")
@allow(RUNNERS)
@api_doc("Record a whole run: each step's mark and the outcome, optionally linked to an alert, job or incident",
         request=RunApiForm, request_extra=RUN_STEPS, status=201, tag="runbooks", response={"type": "object"})
def post_run(slug: str):
    runbook = services.get_runbook(slug)
    steps = json_body().pop("steps", [])  # Flask hands load_form() the same parsed body, without the steps
    if not isinstance(steps, list) or len(steps) > 500 or not all(isinstance(item, dict) for item in steps):
        raise ApiError(422, "Some fields are invalid.", {"steps": "A list of {position, outcome} objects."})
    form = load_form(RunApiForm)
    reading = services.read_runbook(runbook)
    titles = [step.title for step in reading.document.steps] if reading.document else []
    run = runs.record_run(runbook, by=current_user, steps=steps, outcome=form.outcome.data, note=form.note.data,
                          alert_id=form.alert_id.data, job_id=form.job_id.data, incident_id=form.incident_id.data,
                          step_titles=titles, content_hash=reading.content_hash or runbook.content_hash)
    return jsonify({"id": run.id, "outcome": run.outcome, "content_hash": run.content_hash,
                    "steps": [{"position": s.position, "title": s.title, "outcome": s.outcome, "at": s.at.isoformat()}
                              for s in run.steps]}), 201


@bp.post("/runbooks/<slug>/acknowledgements")
@allow(EVERYONE)
@api_doc("Confirm that you have read the current version (no body needed)", status=201, tag="runbooks",
         response={"type": "object"})
def post_acknowledgement(slug: str):
    runbook = services.get_runbook(slug)
    ack = reviews.acknowledge(runbook, user=current_user)
    return jsonify({"slug": runbook.slug, "content_hash": ack.content_hash, "at": ack.at.isoformat()}), 201

