"""The risk page (details, actions, links, score trend, history, reviews, comments) and the forms posted from it.

A form that fails is shown again on the risk page with its errors next to its fields (status 422).
"""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import allow
from app.api.support import error_response
from app.auth.roles import EDITORS, EVERYONE
from app.errors import DomainError
from app.forms_common import form_values
from app.reviews.queries import decisions_for_risk
from app.risks import actions, cadence, charts, escalations, history, link_targets, services, workflow
from app.risks.forms import ActionForm, ActionStatusForm, CommentForm, LinkPickForm, TransitionForm
from app.risks.scoring import current_settings
from app.risks.views import bp
from app.views_common import apply_domain_error


def render_risk(risk, *, status: int = 200, **forms):
    """The risk page; `forms` replaces a blank form with one that failed, so its errors show where it was typed."""
    settings = current_settings()
    today = cadence.team_today(settings)
    periods = history.score_history(risk)
    blank = {"transition_form": TransitionForm(formdata=None), "action_form": ActionForm(formdata=None),
             "status_form": ActionStatusForm(formdata=None), "comment_form": CommentForm(formdata=None),
             "link_form": LinkPickForm(formdata=None)}
    blank.update(forms)
    return render_template(
        "risks/risk.html", risk=risk, today=today, settings=settings,
        quarter=services.threatened_quarter(risk), transitions=workflow.available_transitions(risk),
        overdue_review=cadence.is_review_overdue(risk, today),
        action_flags={a.id: (actions.is_overdue(a, today), actions.is_after_close(a)) for a in risk.actions},
        links=[(link, services.link_url(link)) for link in risk.links], comments=services.comments(risk),
        periods=list(reversed(periods)), chart=charts.score_chart(periods), trail=history.audit_trail(risk),
        trail_total=history.trail_length(risk), decisions=decisions_for_risk(risk.id),
        escalations=escalations.escalations_of(risk),
        can_accept=risk.owner_id != current_user.id, **blank), status


@bp.route("/risks/<int:risk_id>")
@allow(EVERYONE)
def risk(risk_id: int):
    return render_risk(services.get_risk(risk_id))


def _back(risk, anchor: str | None = None):
    return redirect(url_for("risks.risk", risk_id=risk.id, _anchor=anchor))


@bp.route("/risks/<int:risk_id>/transition", methods=["POST"])
@allow(EDITORS)
def transition(risk_id: int):
    risk = services.get_risk(risk_id)
    form = TransitionForm()
    if form.validate_on_submit():
        try:
            workflow.change_status(risk, actor=current_user, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"R-{risk.id} is now {risk.status.value}.", "success")
            return _back(risk)
    return render_risk(risk, status=422, transition_form=form)


@bp.route("/risks/<int:risk_id>/reviewed", methods=["POST"])
@allow(EDITORS)
def mark_reviewed(risk_id: int):
    risk = services.get_risk(risk_id)
    services.mark_risk_reviewed(risk)
    flash(f"R-{risk.id} reviewed; next review {risk.next_review_on or 'not scheduled'}.", "success")
    return _back(risk)


@bp.route("/risks/<int:risk_id>/actions", methods=["POST"])
@allow(EDITORS)
def add_action(risk_id: int):
    risk = services.get_risk(risk_id)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            action = actions.add_action(risk, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            late = " It is due after the quarter closes." if actions.is_after_close(action) else ""
            flash(f"Action added.{late}", "success")
            return _back(risk, "actions")
    return render_risk(risk, status=422, action_form=form)


@bp.route("/risks/<int:risk_id>/actions/<int:action_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_action(risk_id: int, action_id: int):
    risk = services.get_risk(risk_id)
    action = actions.get_action(risk, action_id)
    form = ActionForm() if request.method == "POST" else ActionForm(
        data={"description": action.description, "owner_id": action.owner_id, "due_on": action.due_on})
    if form.validate_on_submit():
        try:
            actions.update_action(action, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash("Action saved.", "success")
            return _back(risk, "actions")
    return render_template("risks/action_form.html", form=form, risk=risk, action=action), \
        422 if form.errors else 200


@bp.route("/risks/<int:risk_id>/actions/<int:action_id>/status", methods=["POST"])
@allow(EDITORS)
def action_status(risk_id: int, action_id: int):
    risk = services.get_risk(risk_id)
    action = actions.get_action(risk, action_id)
    form = ActionStatusForm()
    if form.validate_on_submit():
        try:
            actions.set_action_status(action, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Action marked {action.status.label.lower()}.", "success")
            return _back(risk, "actions")
    return render_risk(risk, status=422, status_form=form)


@bp.route("/risks/<int:risk_id>/comments", methods=["POST"])
@allow(EDITORS)
def add_comment(risk_id: int):
    risk = services.get_risk(risk_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            services.add_comment(risk, author=current_user, body=form.body.data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            return _back(risk, "comments")
    return render_risk(risk, status=422, comment_form=form)


@bp.route("/risks/<int:risk_id>/links", methods=["POST"])
@allow(EDITORS)
def add_link(risk_id: int):
    risk = services.get_risk(risk_id)
    form = LinkPickForm()
    if form.validate_on_submit():
        try:
            kind, target_id = link_targets.chosen(form.kind.data, form.target_id.data, form.target.data)
            link = services.add_link(risk, kind=kind, target_id=target_id)
        except DomainError as error:
            form.target.errors.append(error.message)  # every refusal here is about the one field a person sees
        else:
            flash(f"Linked to {link.kind} {link.label}.", "success")
            return _back(risk, "links")
    return render_risk(risk, status=422, link_form=form)


@bp.route("/risks/link-targets")
@allow(EVERYONE)
def search_link_targets():
    """The picker's search: the first matches by name across apps, jobs and vendors, as JSON."""
    query = request.args.get("q", "")
    if len(query) > link_targets.QUERY_MAX:
        return error_response(400, "The search is too long.", {"q": f"Use at most {link_targets.QUERY_MAX} characters."})
    return jsonify(targets=[target.as_json() for target in link_targets.search(query)])


@bp.route("/risks/<int:risk_id>/links/<int:link_id>/delete", methods=["POST"])
@allow(EDITORS)
def remove_link(risk_id: int, link_id: int):
    risk = services.get_risk(risk_id)
    services.remove_link(risk, link_id)
    flash("Link removed.", "success")
    return _back(risk, "links")
