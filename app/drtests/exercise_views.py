"""Exercise pages: schedule one, the execution page (war-room laptop), step transitions, evidence, the
replication point, sign-off, and the printable report with its Markdown export.

Step writes answer with a redirect back to the step on the execution page; a refusal (a dependency not
finished, a stale page, a frozen record) comes back as a message at the top, never a silent overwrite.
"""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.access import allow
from app.links import is_external, is_safe_link
from app.request_guard import body_limit
from app.auth.roles import EDITORS, EVERYONE
from app.drtests import evidence, exercises, execution, templates
from app.drtests.exercises import EXECUTORS
from app.drtests.forms import (CompleteForm, EvidenceForm, ExerciseEditForm, ExerciseForm, FindingForm, NotesForm,
                               ReplicationForm, SkipForm, VersionForm)
from app.drtests.report import exercise_markdown, report_context
from app.drtests.views import bp
from app.errors import DomainError
from app.forms_common import form_values
from app.timeutil import utcnow
from app.views_common import apply_domain_error


def exercise_form() -> ExerciseForm:
    form = ExerciseForm()
    form.template_id.choices = [SelectChoice(t.id, f"{t.name} (v{t.version})") for t in templates.list_templates()]
    return form


@bp.route("/exercises/new", methods=["GET", "POST"])
@allow(EDITORS)
def new_exercise():
    form = exercise_form()
    if request.method == "GET" and request.args.get("template_id", type=int):
        form.template_id.data = request.args.get("template_id", type=int)
    if form.validate_on_submit():
        values = form_values(form)
        try:
            template = templates.get_template(values.pop("template_id"))
            exercise = exercises.schedule_exercise(template=template, **values)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"{exercise.name} scheduled.", "success")
            return redirect(url_for("drtests.exercise", exercise_id=exercise.id))
    return render_template("drtests/exercise_form.html", form=form), 422 if form.errors else 200


@bp.route("/exercises/<int:exercise_id>")
@allow(EVERYONE)
def exercise(exercise_id: int):
    item = exercises.get_exercise(exercise_id)
    return render_template("drtests/exercise.html", **report_context(item, now=utcnow()),
                           can_execute=exercises.can_execute(item, current_user),
                           can_sign=exercises.can_sign(item, current_user),
                           plan_open=not exercises.has_started(item),
                           complete_form=CompleteForm(formdata=None), finding_form=FindingForm(formdata=None),
                           replication_form=ReplicationForm(formdata=None),
                           blocked={s.id: execution.blocking_steps(s) for s in item.steps})


@bp.route("/exercises/<int:exercise_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_exercise(exercise_id: int):
    """Reschedule or change who takes part, until the first step starts; the page says so after that."""
    item = exercises.get_exercise(exercise_id)
    form = ExerciseEditForm(data={"kind": item.kind.value, "name": item.name, "scheduled_for": item.scheduled_for,
                                  "fiscal_year": item.fiscal_year, "quarter": item.quarter, "owner_id": item.owner_id,
                                  "participant_ids": [p.user_id for p in item.participants],
                                  "version": item.version})
    if form.validate_on_submit():
        values = form_values(form)
        try:
            exercises.update_exercise(item, **values)
        except DomainError as error:
            if error.field == "version":  # the field is hidden: say it at the top
                flash(error.message, "error")
            apply_domain_error(form, error)
        else:
            flash(f"{item.name} saved.", "success")
            return redirect(url_for("drtests.exercise", exercise_id=item.id))
    return render_template("drtests/exercise_form.html", form=form, exercise=item,
                           started=exercises.has_started(item)), 422 if form.errors else 200


@bp.route("/exercises/<int:exercise_id>/delete", methods=["POST"])
@allow(EDITORS)
def cancel_exercise(exercise_id: int):
    item = exercises.get_exercise(exercise_id)
    form = VersionForm()
    try:
        exercises.cancel_exercise(item, version=form.version.data if form.validate_on_submit() else None)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("drtests.exercise", exercise_id=exercise_id))
    flash("Exercise cancelled and removed.", "success")
    return redirect(url_for("drtests.index"))


def _back(exercise_id: int, position: int | None = None):
    return redirect(url_for("drtests.exercise", exercise_id=exercise_id,
                            _anchor=f"step-{position}" if position else None), 303)


def _refusal(message: str, position: int | None = None) -> None:
    """A refused step action is said inside that step's card, where the redirect lands: a message at the top
    of a long page is off screen and the person would believe the step moved."""
    flash(message, f"refused:{position}" if position else "error")


def _refused(form, position: int | None = None) -> None:
    for name, messages in form.errors.items():
        label = form[name].label.text if name in form else name
        _refusal(f"{label}: {' '.join(map(str, messages))}", position)


def _transition(exercise_id: int, step_id: int, form_class, action, done: str):
    item = exercises.get_exercise(exercise_id)
    step = execution.get_step(item, step_id)
    form = form_class()
    if not form.validate_on_submit():
        _refused(form, step.position)
        return _back(item.id, step.position)
    try:
        action(step, user=current_user, **form_values(form))
    except DomainError as error:
        _refusal(error.message, step.position)
    else:
        flash(done.format(n=step.position), "success")
    return _back(item.id, step.position)


@bp.route("/exercises/<int:exercise_id>/steps/<int:step_id>/start", methods=["POST"])
@allow(EXECUTORS)
def start_step(exercise_id: int, step_id: int):
    return _transition(exercise_id, step_id, VersionForm, execution.start_step, "Step {n} started.")


@bp.route("/exercises/<int:exercise_id>/steps/<int:step_id>/complete", methods=["POST"])
@allow(EXECUTORS)
def complete_step(exercise_id: int, step_id: int):
    return _transition(exercise_id, step_id, CompleteForm, execution.complete_step, "Step {n} completed.")


@bp.route("/exercises/<int:exercise_id>/steps/<int:step_id>/skip", methods=["POST"])
@allow(EXECUTORS)
def skip_step(exercise_id: int, step_id: int):
    return _transition(exercise_id, step_id, SkipForm, execution.skip_step, "Step {n} skipped.")


@bp.route("/exercises/<int:exercise_id>/steps/<int:step_id>/notes", methods=["POST"])
@allow(EXECUTORS)
def step_notes(exercise_id: int, step_id: int):
    return _transition(exercise_id, step_id, NotesForm, execution.save_notes, "Notes on step {n} saved.")


@bp.route("/exercises/<int:exercise_id>/steps/<int:step_id>/evidence", methods=["POST"])
@allow(EXECUTORS)
@body_limit(lambda: evidence.max_bytes() + 64 * 1024)  # the file, and the form around it
def add_evidence(exercise_id: int, step_id: int):
    item = exercises.get_exercise(exercise_id)
    step = execution.get_step(item, step_id)
    form = EvidenceForm()
    if not form.validate_on_submit():
        _refused(form, step.position)
        return _back(item.id, step.position)
    upload = form.file.data
    try:
        if upload is not None and getattr(upload, "filename", ""):
            evidence.add_file(step, user=current_user, filename=upload.filename, label=form.label.data or "",
                              data=upload.read(evidence.max_bytes() + 1))
        elif form.url.data:
            evidence.add_link(step, user=current_user, url=form.url.data, label=form.label.data or "")
        else:
            _refusal("Choose a file or type a link.", step.position)
            return _back(item.id, step.position)
    except DomainError as error:
        _refusal(error.message, step.position)
    else:
        flash(f"Evidence added to step {step.position}.", "success")
    return _back(item.id, step.position)


@bp.route("/evidence/<int:evidence_id>")
@allow(EVERYONE)
def download_evidence(evidence_id: int):
    record = evidence.get_evidence(evidence_id)
    if record.url:
        # Never a blind redirect: the page says where the link goes (another site, or not a link at all).
        return render_template("drtests/evidence_link.html", record=record, safe=is_safe_link(record.url),
                               external=is_external(record.url))
    # Always a download with its checked type: a stored file is never rendered as a page of ours.
    return send_file(evidence.evidence_path(record), mimetype=record.content_type, as_attachment=True,
                     download_name=record.filename)


@bp.route("/exercises/<int:exercise_id>/replication", methods=["POST"])
@allow(EXECUTORS)
def record_replication(exercise_id: int):
    item = exercises.get_exercise(exercise_id)
    form = ReplicationForm()
    if not form.validate_on_submit():
        _refused(form)
        return _back(item.id)
    try:
        exercises.record_replication(item, user=current_user, version=form.version.data,
                                     last_replicated_at=form.last_replicated_at.data)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash("Last replicated transaction recorded.", "success")
    return _back(item.id)


@bp.route("/exercises/<int:exercise_id>/signoff", methods=["POST"])
@allow(EVERYONE)  # the service lets only the exercise's owner sign
def sign_off(exercise_id: int):
    item = exercises.get_exercise(exercise_id)
    form = VersionForm()
    if not form.validate_on_submit():
        _refused(form)
        return _back(item.id)
    try:
        exercises.sign_off(item, user=current_user, version=form.version.data)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"Signed off: {item.result.value.replace('_', ' ')}. The record is frozen.", "success")
    return _back(item.id)


@bp.route("/exercises/<int:exercise_id>/report")
@allow(EVERYONE)
def report(exercise_id: int):
    item = exercises.get_exercise(exercise_id)
    return render_template("drtests/report.html", **report_context(item, now=utcnow()))


@bp.route("/exercises/<int:exercise_id>/report.md")
@allow(EVERYONE)
def report_markdown(exercise_id: int):
    item = exercises.get_exercise(exercise_id)
    return Response(exercise_markdown(item, now=utcnow()), mimetype="text/markdown", headers={
        "Content-Disposition": f'attachment; filename="dr-exercise-{item.id}.md"'})
