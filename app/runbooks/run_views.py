"""Run mode pages: start a run of a runbook (from an alert, a job or an incident), mark each step, finish it.

Each mark is its own small form, so the page works on a phone without JavaScript and every step keeps the time
it was marked at.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import allow, can
from app.auth.roles import EVERYONE
from app.errors import DomainError
from app.runbooks import runs, services
from app.runbooks.forms import FinishRunForm, StartRunForm, StepForm
from app.runbooks.models import RunOutcome, StepOutcome
from app.runbooks.services import RUNNERS
from app.views_common import apply_domain_error

bp = Blueprint("runbook_runs", __name__, url_prefix="/runbooks")


def _context_args() -> dict[str, int]:
    """?alert_id= / ?job_id= / ?incident_id= of the page that opened run mode, kept when they are numbers."""
    found = {}
    for name in ("alert_id", "job_id", "incident_id"):
        value = request.args.get(name, type=int)
        if value is not None and 0 < value < 2**31:
            found[name] = value
    return found


@bp.route("/<slug>/run")
@allow(RUNNERS)
def start_page(slug: str):
    runbook = services.get_runbook(slug)
    reading = services.read_runbook(runbook)
    form = StartRunForm(formdata=None, data=_context_args())
    return render_template("runbooks/start_run.html", runbook=runbook, reading=reading, form=form,
                           context=_context_args())


@bp.route("/<slug>/runs", methods=["POST"])
@allow(RUNNERS)
def start(slug: str):
    form = StartRunForm()
    if not form.validate_on_submit():
        flash("The form expired or names no such record. Try again.", "error")
        return redirect(url_for("runbook_runs.start_page", slug=slug))
    try:
        run = services.start_run_for(slug, by=current_user, alert_id=form.alert_id.data, job_id=form.job_id.data,
                                     incident_id=form.incident_id.data)
    except DomainError as error:
        if error.status == 404:
            raise
        flash(error.message, "error")
        return redirect(url_for("runbook_runs.start_page", slug=slug))
    return redirect(url_for("runbook_runs.run", run_id=run.id))


def _render_run(run, finish_form: FinishRunForm | None = None, status: int = 200):
    marks = {step.position: step for step in run.steps}
    reading = services.read_runbook(run.runbook) if run.runbook.removed_at is None else None
    bodies = {}
    if reading is not None and reading.document is not None and reading.content_hash == run.content_hash:
        bodies = {step.position: step.html for step in reading.document.steps}
    return render_template("runbooks/run.html", run=run, marks=marks, bodies=bodies, step_form=StepForm(),
                           finish_form=finish_form or FinishRunForm(formdata=None), outcomes=StepOutcome,
                           run_outcomes=RunOutcome, may_run=can(RUNNERS) and run.is_open,
                           version_changed=reading is not None and reading.content_hash != run.content_hash), status


@bp.route("/runs/<int:run_id>")
@allow(EVERYONE)
def run(run_id: int):
    return _render_run(runs.get_run(run_id))


@bp.route("/runs/<int:run_id>/steps/<int:position>", methods=["POST"])
@allow(RUNNERS)
def mark(run_id: int, position: int):
    item = runs.get_run(run_id)
    form = StepForm()
    if not form.validate_on_submit():
        flash("Mark the step done, skipped or failed.", "error")
    else:
        try:
            runs.mark_step(item, position=position, outcome=form.outcome.data, by=current_user)
        except DomainError as error:
            if error.status == 404:
                raise
            flash(error.message, "error")
    return redirect(url_for("runbook_runs.run", run_id=run_id, _anchor=f"step-{position}"))


@bp.route("/runs/<int:run_id>/finish", methods=["POST"])
@allow(RUNNERS)
def finish(run_id: int):
    item = runs.get_run(run_id)
    form = FinishRunForm()
    if form.validate_on_submit():
        try:
            runs.finish_run(item, outcome=form.outcome.data, note=form.note.data, by=current_user)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Run recorded: {RunOutcome(item.outcome).label.lower()}. Thank you.", "success")
            return redirect(url_for("runbook_runs.run", run_id=run_id))
    return _render_run(item, finish_form=form, status=422)
