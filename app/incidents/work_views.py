"""Working an incident from its page: updates, notes, severity, roles, instants, alerts, links, runbooks, tasks,
subscribing, resolving. Each handler checks the form, calls one service, and redirects back (or shows the page
again with the form's errors, 422)."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from app.access import allow
from app.auth.roles import EVERYONE
from app.errors import DomainError
from app.extensions import db
from app.incidents import links, review, services, subscriptions, tasks, updates
from app.incidents.forms import (ActionForm, AttachAlertForm, InstantForm, NoteForm, ResolveForm, RoleForm,
                                 RunbookForm, SeverityForm, TaskForm, TaskStatusForm, UpdateForm)
from app.incidents.views import _link_form, render_incident, viewer_instant
from app.views_common import apply_domain_error

bp = Blueprint("incident_work", __name__)
WORKERS = services.WORKERS


def _back(incident_id: int, anchor: str = ""):
    return redirect(url_for("incidents.incident", incident_id=incident_id) + (f"#{anchor}" if anchor else ""))


def _act(incident_id: int, form: FlaskForm, form_name: str, action: Callable[[], str], anchor: str = ""):
    """Validate `form`, run `action` (a service call returning the message to flash) and go back to the incident;
    on a bad form or a refusal show the incident again with the form's errors."""
    services.get_incident(incident_id)  # 404 before anything else
    if form.validate_on_submit():
        try:
            done = action()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash(done, "success")
            return _back(incident_id, anchor)
    if "csrf_token" in form.errors:
        flash("The form expired or was sent from elsewhere. Reload the page and try again.", "error")
    return render_incident(services.get_incident(incident_id), status=422, **{form_name: form})


@bp.route("/incidents/<int:incident_id>/updates", methods=["POST"])
@allow(WORKERS)
def post_update(incident_id: int):
    form = UpdateForm()

    def action() -> str:
        update = updates.post_update(incident_id, status=form.status.data, message=form.message.data,
                                     author=current_user)
        return f"Update posted; it goes to {update.recipients} subscriber(s)."
    return _act(incident_id, form, "update_form", action, "updates")


@bp.route("/incidents/<int:incident_id>/notes", methods=["POST"])
@allow(WORKERS)
def add_note(incident_id: int):
    form = NoteForm()

    def action() -> str:
        services.add_note(services.get_incident(incident_id), text=form.text.data, actor=current_user,
                          happened_at=viewer_instant(form.happened_at.data))
        return "Note added to the timeline."
    return _act(incident_id, form, "note_form", action, "timeline")


@bp.route("/incidents/<int:incident_id>/severity", methods=["POST"])
@allow(WORKERS)
def change_severity(incident_id: int):
    form = SeverityForm()

    def action() -> str:
        incident = services.change_severity(services.get_incident(incident_id), severity=form.severity.data,
                                            reason=form.reason.data or "", actor=current_user)
        return f"{incident.code} is now {incident.severity.code}."
    return _act(incident_id, form, "severity_form", action)


@bp.route("/incidents/<int:incident_id>/roles", methods=["POST"])
@allow(WORKERS)
def hand_over(incident_id: int):
    form = RoleForm()

    def action() -> str:
        services.hand_over(services.get_incident(incident_id), role=form.role.data, user_id=form.user_id.data,
                           actor=current_user)
        return "Role handed over."
    return _act(incident_id, form, "role_form", action, "roles")


@bp.route("/incidents/<int:incident_id>/instants", methods=["POST"])
@allow(WORKERS)
def edit_instant(incident_id: int):
    form = InstantForm()

    def action() -> str:
        services.edit_instant(services.get_incident(incident_id), name=form.name.data,
                              value=viewer_instant(form.value.data), reason=form.reason.data, actor=current_user)
        return "Time corrected; the change and its reason are on the timeline."
    return _act(incident_id, form, "instant_form", action, "instants")


@bp.route("/incidents/<int:incident_id>/alerts", methods=["POST"])
@allow(WORKERS)
def attach_alert(incident_id: int):
    form = AttachAlertForm()

    def action() -> str:
        services.attach_alert(services.get_incident(incident_id), alert_id=form.alert_id.data, actor=current_user)
        return f"Alert #{form.alert_id.data} attached."
    return _act(incident_id, form, "attach_form", action, "alerts")


@bp.route("/incidents/<int:incident_id>/links", methods=["POST"])
@allow(WORKERS)
def add_link(incident_id: int):
    form = _link_form(blank=False)

    def action() -> str:
        kind, ident = form.kind_and_id()
        link = links.add_link(services.get_incident(incident_id), kind=kind, target_id=ident, actor=current_user)
        return f"Linked: {link.label}."
    return _act(incident_id, form, "link_form", action, "touches")


@bp.route("/incidents/<int:incident_id>/links/<int:link_id>/delete", methods=["POST"])
@allow(WORKERS)
def remove_link(incident_id: int, link_id: int):
    form = ActionForm()

    def action() -> str:
        links.remove_link(services.get_incident(incident_id), link_id, actor=current_user)
        return "Link removed."
    return _act(incident_id, form, "action_form", action, "touches")


@bp.route("/incidents/<int:incident_id>/runbooks", methods=["POST"])
@allow(WORKERS)
def add_runbook(incident_id: int):
    form = RunbookForm()

    def action() -> str:
        links.add_runbook(services.get_incident(incident_id), slug=form.runbook_slug.data,
                          outcome=form.outcome.data or "", actor=current_user)
        return "Runbook recorded as in use."
    return _act(incident_id, form, "runbook_form", action, "touches")


@bp.route("/incidents/<int:incident_id>/tasks", methods=["POST"])
@allow(WORKERS)
def add_task(incident_id: int):
    form = TaskForm()

    def action() -> str:
        task = tasks.add_task(services.get_incident(incident_id), title=form.title.data, owner_id=form.owner_id.data,
                              due_at=viewer_instant(form.due_at.data), actor=current_user)
        return f"Task added for {task.owner.name}."
    return _act(incident_id, form, "task_form", action, "tasks")


@bp.route("/incidents/<int:incident_id>/tasks/<int:task_id>", methods=["POST"])
@allow(WORKERS)
def set_task_status(incident_id: int, task_id: int):
    form = TaskStatusForm()

    def action() -> str:
        incident = services.get_incident(incident_id)
        task = tasks.set_task_status(incident, tasks.get_task(incident, task_id), status=form.status.data,
                                     actor=current_user)
        return f"Task {task.status}: {task.title}"
    return _act(incident_id, form, "action_form", action, "tasks")


@bp.route("/incidents/<int:incident_id>/subscription", methods=["POST"])
@allow(EVERYONE)
def subscribe(incident_id: int):
    form = ActionForm()

    def action() -> str:
        subscriptions.set_subscribed(services.get_incident(incident_id), current_user, True)
        return "Subscribed: you get its updates."
    return _act(incident_id, form, "action_form", action)


@bp.route("/incidents/<int:incident_id>/subscription/delete", methods=["POST"])
@allow(EVERYONE)
def unsubscribe(incident_id: int):
    form = ActionForm()

    def action() -> str:
        subscriptions.set_subscribed(services.get_incident(incident_id), current_user, False)
        return "Unsubscribed: no more updates."
    return _act(incident_id, form, "action_form", action)


@bp.route("/incidents/<int:incident_id>/resolve", methods=["POST"])
@allow(WORKERS)
def resolve(incident_id: int):
    form = ResolveForm()

    def action() -> str:
        incident = review.resolve(incident_id, resolution=form.resolution.data, actor=current_user)
        return f"{incident.code} resolved. Its review is due as shown below."
    return _act(incident_id, form, "resolve_form", action)

