"""Findings: recorded on an exercise, listed across exercises, moved through their status, and turned into a
risk or a mitigation action with one click."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.access import allow
from app.auth.roles import EDITORS, EVERYONE
from app.drtests import exercises, findings, services
from app.drtests.exercises import EXECUTORS
from app.drtests.forms import EscalateForm, FindingForm, FindingStatusForm
from app.drtests.models import FindingStatus
from app.drtests.views import bp
from app.errors import DomainError
from app.forms_common import form_values
from app.views_common import keyset_args


@bp.route("/findings")
@allow(EVERYONE)
def findings_list():
    status = request.args.get("status") or ""
    if status not in {s.value for s in FindingStatus}:
        status = ""
    after, before, per_page = keyset_args()
    listing = services.findings_page(status or None, after=after, before=before, per_page=per_page)
    pager_args = {**({"status": status} if status else {}),
                  **({"per_page": per_page} if "per_page" in request.args else {})}
    return render_template("drtests/findings.html", listing=listing, status=status, statuses=list(FindingStatus),
                           pager_args=pager_args,
                           status_form=FindingStatusForm(formdata=None), escalate_form=EscalateForm(formdata=None),
                           action_risks=findings.risks_open_for_actions())


@bp.route("/exercises/<int:exercise_id>/findings", methods=["POST"])
@allow(EXECUTORS)
def add_finding(exercise_id: int):
    item = exercises.get_exercise(exercise_id)
    form = FindingForm()
    if form.validate_on_submit():
        try:
            finding = findings.add_finding(item, **form_values(form))
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(f"Finding recorded: {finding.title}.", "success")
    else:
        for name, messages in form.errors.items():
            flash(f"{form[name].label.text}: {' '.join(map(str, messages))}", "error")
    return redirect(url_for("drtests.exercise", exercise_id=item.id, _anchor="findings"), 303)


def _back_to(finding):
    target = request.form.get("back")
    if target == "list":
        return redirect(url_for("drtests.findings_list"), 303)
    return redirect(url_for("drtests.exercise", exercise_id=finding.exercise_id, _anchor="findings"), 303)


@bp.route("/findings/<int:finding_id>/status", methods=["POST"])
@allow(EXECUTORS)
def finding_status(finding_id: int):
    finding = findings.get_finding(finding_id)
    form = FindingStatusForm()
    if form.validate_on_submit():
        try:
            findings.update_finding(finding, status=form.status.data)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(f"Finding {finding.title}: {finding.status.value.replace('_', ' ')}.", "success")
    else:
        flash("Choose a status.", "error")
    return _back_to(finding)


@bp.route("/findings/<int:finding_id>/escalate", methods=["POST"])
@allow(EDITORS)
def escalate_finding(finding_id: int):
    finding = findings.get_finding(finding_id)
    form = EscalateForm()
    if form.validate_on_submit():
        try:
            findings.escalate(finding, **form_values(form))
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(f"Handed to the risk register as risk #{finding.risk_ref}." if finding.status == FindingStatus.TO_RISK
                  else f"Tracked as a mitigation action on risk #{finding.risk_ref}.", "success")
    else:
        for name, messages in form.errors.items():
            flash(f"{form[name].label.text}: {' '.join(map(str, messages))}", "error")
    return _back_to(finding)
