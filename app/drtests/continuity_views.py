"""Continuity pages: plans with their flags, a plan with its simulation tests, sites and readiness checks."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.access import allow
from app.auth.roles import EDITORS, EVERYONE
from app.drtests import continuity
from app.drtests.continuity_forms import CheckForm, PlanForm, SimulationForm, SiteForm
from app.drtests.views import bp
from app.errors import DomainError
from app.forms_common import form_values
from app.timeutil import today_in
from app.views_common import apply_domain_error


def _today():
    return today_in(current_user.time_zone)


def _plan_form(**kwargs) -> PlanForm:
    form = PlanForm(**kwargs)
    form.site_ids.choices = [SelectChoice(site.id, site.name) for site in continuity.list_sites()]
    return form


@bp.route("/continuity")
@allow(EVERYONE)
def continuity_index():
    today = _today()
    plans = continuity.list_plans()
    return render_template("drtests/continuity.html", plans=plans, sites=continuity.list_sites(),
                           flags={plan.id: continuity.plan_flags(plan, today) for plan in plans},
                           check_form=CheckForm(formdata=None))


@bp.route("/continuity/plans/new", methods=["GET", "POST"])
@allow(EDITORS)
def new_plan():
    form = _plan_form()
    if form.validate_on_submit():
        try:
            plan = continuity.save_plan(None, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Plan {plan.name} created.", "success")
            return redirect(url_for("drtests.plan", plan_id=plan.id))
    return render_template("drtests/plan_form.html", form=form, plan=None), 422 if form.errors else 200


@bp.route("/continuity/plans/<int:plan_id>")
@allow(EVERYONE)
def plan(plan_id: int):
    item = continuity.get_plan(plan_id)
    return render_template("drtests/plan.html", plan=item, flags=continuity.plan_flags(item, _today()),
                           simulation_form=SimulationForm(formdata=None))


@bp.route("/continuity/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_plan(plan_id: int):
    item = continuity.get_plan(plan_id)
    form = _plan_form(data={"name": item.name, "owner_id": item.owner_id, "scope": item.scope, "teams": item.teams,
                            "review_due": item.review_due, "site_ids": [site.id for site in item.sites]})
    if form.validate_on_submit():
        try:
            continuity.save_plan(item, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash("Plan saved.", "success")
            return redirect(url_for("drtests.plan", plan_id=item.id))
    return render_template("drtests/plan_form.html", form=form, plan=item), 422 if form.errors else 200


@bp.route("/continuity/plans/<int:plan_id>/simulations", methods=["POST"])
@allow(EDITORS)
def record_simulation(plan_id: int):
    item = continuity.get_plan(plan_id)
    form = SimulationForm()
    if form.validate_on_submit():
        try:
            continuity.record_simulation(item, user=current_user, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash("Simulation test recorded.", "success")
            return redirect(url_for("drtests.plan", plan_id=item.id), 303)
    return render_template("drtests/plan.html", plan=item, flags=continuity.plan_flags(item, _today()),
                           simulation_form=form), 422


@bp.route("/continuity/sites/new", methods=["GET", "POST"])
@allow(EDITORS)
def new_site():
    return _site_page(None)


@bp.route("/continuity/sites/<int:site_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_site(site_id: int):
    return _site_page(continuity.get_site(site_id))


def _site_page(site):
    form = SiteForm(obj=site)
    if form.validate_on_submit():
        try:
            site = continuity.save_site(site, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Site {site.name} saved.", "success")
            return redirect(url_for("drtests.continuity_index", _anchor=f"site-{site.id}"))
    return render_template("drtests/site_form.html", form=form, site=site), 422 if form.errors else 200


@bp.route("/continuity/sites/<int:site_id>/check", methods=["POST"])
@allow(EDITORS)
def check_site(site_id: int):
    site = continuity.get_site(site_id)
    form = CheckForm()
    if form.validate_on_submit():
        continuity.record_readiness_check(site, user=current_user, notes=form.notes.data or "")
        flash(f"{site.name} checked ready.", "success")
    else:
        flash("The notes are too long.", "error")
    return redirect(url_for("drtests.continuity_index", _anchor=f"site-{site.id}"), 303)
