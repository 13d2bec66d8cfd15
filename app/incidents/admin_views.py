"""Incident settings (administrators): each severity's words, update cadence and SEV1/SEV2 policy, and the
review's business days; and each person's own choice of SMS for SEV1 updates."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.access import allow
from app.auth.roles import ADMINS, EVERYONE
from app.errors import DomainError
from app.extensions import db
from app.incidents import severities, subscriptions
from app.incidents.forms import PreferenceForm, SettingsForm, SeveritySettingsForm
from app.oncall.policies import list_policies
from app.views_common import apply_domain_error

bp = Blueprint("incident_admin", __name__)


def _severity_form(severity, *, posted: bool = False) -> SeveritySettingsForm:
    form = SeveritySettingsForm(prefix=severity.code) if posted else SeveritySettingsForm(
        formdata=None, obj=severity, prefix=severity.code)
    form.escalation_policy_id.choices = [SelectChoice("", "— none: page only the commander —")] + [
        SelectChoice(policy.id, policy.name) for policy in list_policies()] if severity.pages_policy else [
        SelectChoice("", "— SEV3 and SEV4 page only the commander —")]
    return form


def _render(status: int = 200, *, settings_form: SettingsForm | None = None, failed=None):
    rows = severities.list_severities()
    db.session.commit()  # the defaults, when they were missing
    forms = {severity.code: _severity_form(severity) for severity in rows}
    if failed is not None:
        forms[failed[0]] = failed[1]
    settings = severities.current_settings()
    return render_template("incidents/settings.html", severities=rows, forms=forms,
                           settings_form=settings_form or SettingsForm(formdata=None, obj=settings)), status


@bp.route("/incidents/settings", methods=["GET", "POST"])
@allow(ADMINS)
def settings():
    if request.method == "GET":
        return _render()
    form = SettingsForm()
    if form.validate_on_submit():
        try:
            severities.save_settings(review_business_days=form.review_business_days.data)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash("Saved. Reviews already due keep their date; new ones use this.", "success")
            return redirect(url_for("incident_admin.settings"))
    return _render(422, settings_form=form)


@bp.route("/incidents/settings/<severity_code>", methods=["POST"])
@allow(ADMINS)
def save_severity(severity_code: str):
    severity = severities.get_severity(severity_code)
    form = _severity_form(severity, posted=True)
    if form.validate_on_submit():
        try:
            severities.save_severity(severity, description=form.description.data,
                                     update_interval_minutes=form.update_interval_minutes.data,
                                     escalation_policy_id=form.escalation_policy_id.data)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash(f"{severity.code} saved.", "success")
            return redirect(url_for("incident_admin.settings") + f"#{severity.code}")
    return _render(422, failed=(severity.code, form))


@bp.route("/incidents/preferences", methods=["POST"])
@allow(EVERYONE)
def preferences():
    form = PreferenceForm()
    if form.validate_on_submit():
        subscriptions.set_sms_for_sev1(current_user, form.sms_for_sev1.data)
        flash("SEV1 updates come by SMS." if form.sms_for_sev1.data else "Incident updates come by email.", "success")
    else:
        flash("The form expired. Try again.", "error")
    return redirect(url_for("incidents.index"))
