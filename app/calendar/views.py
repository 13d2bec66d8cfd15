"""The fiscal calendar page and the regions admin."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import allow
from app.auth.roles import ADMINS, EVERYONE
from app.calendar import services
from app.calendar.forms import RegionForm
from app.errors import DomainError
from app.timeutil import fiscal_quarter, today_in
from app.forms_common import form_values
from app.views_common import apply_domain_error

bp = Blueprint("calendar", __name__)


@bp.route("/calendar")
@allow(EVERYONE)
def quarter():
    today = today_in(current_user.time_zone)
    current = services.current_quarter()
    year, number = request.args.get("fy", type=int), request.args.get("q", type=int)
    if year is None or number is None:
        shown = current
    else:
        try:
            shown = fiscal_quarter(year, number, services.fiscal_start_month())
            # The page links to both neighbours; at the ends of the date range one cannot be built.
            shown.previous(), shown.next()
        except ValueError:
            abort(404)
    return render_template("calendar/quarter.html", quarter=shown, today=today,
                           closes=services.quarter_overview(shown), current=current)


@bp.route("/regions")
@allow(EVERYONE)
def regions():
    return render_template("calendar/regions.html", regions=services.list_regions())


@bp.route("/regions/new", methods=["GET", "POST"])
@allow(ADMINS)
def new_region():
    form = RegionForm()
    if form.validate_on_submit():
        try:
            region = services.create_region(**form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Region {region.name} created.", "success")
            return redirect(url_for("calendar.regions"))
    return render_template("calendar/region_form.html", form=form, region=None)


@bp.route("/regions/<int:region_id>/edit", methods=["GET", "POST"])
@allow(ADMINS)
def edit_region(region_id: int):
    region = services.get_region(region_id)
    form = RegionForm(obj=region)
    if form.validate_on_submit():
        try:
            services.update_region(region, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Region {region.name} saved.", "success")
            return redirect(url_for("calendar.regions"))
    return render_template("calendar/region_form.html", form=form, region=region)


@bp.route("/regions/<int:region_id>/delete", methods=["POST"])
@allow(ADMINS)
def delete_region(region_id: int):
    region = services.get_region(region_id)
    services.delete_region(region)
    flash(f"Region {region.name} deleted.", "success")
    return redirect(url_for("calendar.regions"))
