"""Pages for escalation policies: list, view, create, edit, delete."""
from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.access import allow
from app.auth.roles import ADMINS, EDITORS, EVERYONE
from app.errors import DomainError
from app.forms_common import form_values
from app.oncall import policies
from app.oncall.models import EscalationPolicy
from app.oncall.policy_forms import MAX_ROWS, PolicyForm, StepForm, target_choices, target_from_value, target_value
from app.views_common import apply_domain_error

bp = Blueprint("policies", __name__)

# A service refusal such as "steps[1].targets[0].user_id" names the second saved step; see _show_error().
_STEP_FIELD = re.compile(r"steps(?:\[(\d+)\])?(?:\.(\w+))?")


def _choices(policy: EscalationPolicy | None):
    schedules, users = policies.target_options()
    # A saved step may name someone deactivated since; keep them selectable so the page shows the step as saved.
    keep = [t.user for step in (policy.steps if policy else []) for t in step.targets
            if t.user is not None and not t.user.active]
    return target_choices(schedules, users, keep)


def _form_data(policy: EscalationPolicy) -> dict:
    steps = [{"position": index + 1, "delay_minutes": step.delay_minutes,
              "targets": [target_value(("schedule_id", t.schedule_id) if t.schedule_id is not None
                                       else ("user_id", t.user_id)) for t in step.targets]}
             for index, step in enumerate(policy.steps)]
    return {"name": policy.name, "description": policy.description, "repeat": policy.repeat,
            "close_mode": policy.close_mode, "close_mode_max_delay": policy.close_mode_max_delay,
            "ack_timeout_minutes": policy.ack_timeout_minutes,
            "steps": steps + [{"position": len(steps) + 1}]}


def _build_form(initial: dict) -> PolicyForm:
    # On POST only what was submitted counts: an input left out must not fall back to the saved value.
    return PolicyForm() if request.method == "POST" else PolicyForm(data=initial)


def _used_rows(form: PolicyForm) -> list[StepForm]:
    """The rows that make up the policy, in the order their Order numbers give (ties keep page order)."""
    rows = [(row.form.position.data or MAX_ROWS + 100, index, row.form) for index, row in enumerate(form.steps)
            if not row.form.remove.data and not row.form.is_blank]
    return [step_form for _position, _index, step_form in sorted(rows, key=lambda item: item[:2])]


def _show_error(form: PolicyForm, rows: list[StepForm], error: DomainError) -> None:
    """Put a service refusal next to the input it names: a step's wait or its Notify list, or a policy field."""
    match = _STEP_FIELD.match(error.field or "")
    if match is None:
        apply_domain_error(form, error)
        return
    if match[1] is None or int(match[1]) >= len(rows):
        form.form_errors.append(error.message)
        return
    row = rows[int(match[1])]
    target = row.delay_minutes if match[2] == "delay_minutes" else row.targets
    target.errors = list(target.errors) + [error.message]


def _submit(form: PolicyForm, policy: EscalationPolicy | None, choices) -> EscalationPolicy | None:
    """Save the page's policy; None when it was refused (the reasons are on the form) or a row was added."""
    if "add_step" in request.form:
        if not form.add_blank_row(choices):
            form.form_errors.append(f"A page holds at most {MAX_ROWS} rows; save, then add more.")
        return None
    if not form.validate_on_submit():
        return None
    rows = _used_rows(form)
    values = {name: value for name, value in form_values(form).items() if name != "steps"}
    steps = [{"delay_minutes": row.delay_minutes.data, "targets": [target_from_value(v) for v in row.targets.data]}
             for row in rows]
    try:
        return policies.save_policy(policy, **values, steps=steps)
    except DomainError as error:
        _show_error(form, rows, error)
        return None


def _render_form(form: PolicyForm, policy: EscalationPolicy | None):
    status = 422 if request.method == "POST" and "add_step" not in request.form else 200
    return render_template("oncall/policy_form.html", form=form, policy=policy), status


@bp.route("/policies")
@allow(EVERYONE)
def index():
    window, active = policies.current_close_window()
    return render_template("oncall/policies.html", policies=policies.list_policies(), window=window, active=active,
                           fallback=policies.fallback_policy())


@bp.route("/policies/new", methods=["GET", "POST"])
@allow(EDITORS)
def new():
    choices = _choices(None)
    form = _build_form({"steps": [{"position": 1}, {"position": 2}]})
    form.set_target_choices(choices)
    if request.method == "POST":
        policy = _submit(form, None, choices)
        if policy is not None:
            flash(f"Policy {policy.name} created.", "success")
            return redirect(url_for("policies.show", policy_id=policy.id))
    return _render_form(form, None)


@bp.route("/policies/<int:policy_id>")
@allow(EVERYONE)
def show(policy_id: int):
    policy = policies.get_policy(policy_id)
    window, active = policies.current_close_window()
    close_delays = [min(step.delay_minutes, policy.close_mode_max_delay) for step in policy.steps]
    return render_template("oncall/policy.html", policy=policy, window=window, active=active,
                           close_delays=close_delays, fallback=policies.fallback_policy(),
                           cannot_call=policies.cannot_be_called(policy) if policy.close_mode else [])


@bp.route("/policies/<int:policy_id>/fallback", methods=["POST"])
@allow(ADMINS)
def fallback(policy_id: int):
    """Make the policy the organisation's fallback, or (use=0) stop using it as the fallback."""
    policy = policies.get_policy(policy_id)
    use = request.form.get("use", "1") != "0"
    try:
        policies.set_fallback(policy if use else None)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"{policy.name} is now the fallback policy." if use else
              f"{policy.name} is no longer the fallback policy: alerts without a policy page nobody.", "success")
    return redirect(url_for("policies.show", policy_id=policy.id))


@bp.route("/policies/<int:policy_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit(policy_id: int):
    policy = policies.get_policy(policy_id)
    choices = _choices(policy)
    form = _build_form(_form_data(policy))
    form.set_target_choices(choices)
    if request.method == "POST":
        if _submit(form, policy, choices) is not None:
            flash(f"Policy {policy.name} saved.", "success")
            return redirect(url_for("policies.show", policy_id=policy.id))
    return _render_form(form, policy)


@bp.route("/policies/<int:policy_id>/delete", methods=["POST"])
@allow(EDITORS)
def delete(policy_id: int):
    policy = policies.get_policy(policy_id)
    name = policy.name
    policies.delete_policy(policy)
    flash(f"Policy {name} deleted.", "success")
    return redirect(url_for("policies.index"))
