"""Pages for schedules: who is on call, the 14-day timeline, layers, overrides, and one's own calendar feed.

Rotation pages add their routes to the same blueprint (app/oncall/rotation_views.py, imported by create_app()).
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import allow, public
from app.auth.roles import EDITORS, EVERYONE
from app.errors import DomainError
from app.forms_common import form_values
from app.oncall import coverage, feeds
from app.oncall import schedules as services
from app.oncall.schedule_forms import LayerForm, MoveForm, OverrideForm, ScheduleForm, days_label
from app.timeutil import is_valid_zone, start_of_day, to_zone, today_in, utcnow
from app.views_common import apply_domain_error

bp = Blueprint("schedules", __name__)

TIMELINE_DAYS = 14


@bp.route("/schedules")
@allow(EVERYONE)
def schedules():
    shown = services.list_schedules()
    now = utcnow()
    on_call = {schedule.id: coverage.who_is_on_call(schedule, now) for schedule in shown}
    return render_template("oncall/schedules.html", schedules=shown, on_call=on_call)


@bp.route("/schedules/new", methods=["GET", "POST"])
@allow(EDITORS)
def new_schedule():
    form = ScheduleForm()
    if form.validate_on_submit():
        try:
            schedule = services.create_schedule(**form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Schedule {schedule.name} created. Add its layers next.", "success")
            return redirect(url_for("schedules.edit_schedule", schedule_id=schedule.id))
    return render_template("oncall/schedule_form.html", form=form, schedule=None)


def _viewer_zone() -> str:
    zone = request.args.get("zone") or current_user.time_zone
    if not is_valid_zone(zone):
        flash(f"Unknown time zone {zone!r}; showing {current_user.time_zone}.", "error")
        return current_user.time_zone
    return zone


def _render_schedule(schedule, override_form: OverrideForm, status: int = 200):
    zone = _viewer_zone()
    now = utcnow()
    # Whole local days, midnight to midnight in the zone shown (a DST day has 23 or 25 hours).
    today = today_in(zone)
    start = start_of_day(today, zone)
    end = start_of_day(today + timedelta(days=TIMELINE_DAYS), zone)
    shown = coverage.schedule_timeline(schedule, start, TIMELINE_DAYS, end=end)
    return render_template(
        "oncall/schedule.html", schedule=schedule, zone=zone, now=now, timeline=shown,
        days=coverage.timeline_days(shown, zone), on_call=coverage.who_is_on_call(schedule, now),
        unreachable={user.id for user in shown.unreachable}, gaps=[g for g in shown.gaps if g.end > now],
        overrides=services.upcoming_overrides(schedule), override_form=override_form, days_label=days_label,
        at_zone=lambda value, fmt="%a %d %b %H:%M": to_zone(value, zone).strftime(fmt)), status


@bp.route("/schedules/<int:schedule_id>")
@allow(EVERYONE)
def schedule(schedule_id: int):
    return _render_schedule(services.get_schedule(schedule_id), OverrideForm(formdata=None))


@bp.route("/schedules/<int:schedule_id>/overrides", methods=["POST"])
@allow(EDITORS)
def add_override(schedule_id: int):
    schedule = services.get_schedule(schedule_id)
    form = OverrideForm()
    if form.validate_on_submit():
        try:
            services.create_override(schedule, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash("Override added.", "success")
            return redirect(url_for("schedules.schedule", schedule_id=schedule.id))
    return _render_schedule(schedule, form, 422)


@bp.route("/schedules/<int:schedule_id>/overrides/<int:override_id>/delete", methods=["POST"])
@allow(EDITORS)
def delete_override(schedule_id: int, override_id: int):
    services.delete_override(services.get_override(override_id, schedule_id))
    flash("Override removed.", "success")
    return redirect(url_for("schedules.schedule", schedule_id=schedule_id))


def _render_edit(schedule, form: ScheduleForm, layer_form: LayerForm, status: int = 200):
    return render_template("oncall/schedule_edit.html", schedule=schedule, form=form, layer_form=layer_form,
                           days_label=days_label), status


@bp.route("/schedules/<int:schedule_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_schedule(schedule_id: int):
    schedule = services.get_schedule(schedule_id)
    form = ScheduleForm(obj=schedule)
    if form.validate_on_submit():
        try:
            services.update_schedule(schedule, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Schedule {schedule.name} saved.", "success")
            return redirect(url_for("schedules.schedule", schedule_id=schedule.id))
    layer_form = LayerForm(prefix="layer", formdata=None, time_zone=schedule.time_zone)
    return _render_edit(schedule, form, layer_form, 422 if form.errors else 200)


@bp.route("/schedules/<int:schedule_id>/layers", methods=["POST"])
@allow(EDITORS)
def add_layer(schedule_id: int):
    schedule = services.get_schedule(schedule_id)
    layer_form = LayerForm(prefix="layer")
    if layer_form.validate_on_submit():
        try:
            services.add_layer(schedule, **form_values(layer_form))
        except DomainError as error:
            apply_domain_error(layer_form, error)
        else:
            flash("Layer added.", "success")
            return redirect(url_for("schedules.edit_schedule", schedule_id=schedule.id))
    return _render_edit(schedule, ScheduleForm(obj=schedule, formdata=None), layer_form, 422)


@bp.route("/schedules/<int:schedule_id>/layers/<int:layer_id>/move", methods=["POST"])
@allow(EDITORS)
def move_layer(schedule_id: int, layer_id: int):
    schedule = services.get_schedule(schedule_id)
    layer = services.get_layer(schedule, layer_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    services.move_layer(schedule, layer, form.direction.data)
    return redirect(url_for("schedules.edit_schedule", schedule_id=schedule.id))


@bp.route("/schedules/<int:schedule_id>/layers/<int:layer_id>/remove", methods=["POST"])
@allow(EDITORS)
def remove_layer(schedule_id: int, layer_id: int):
    schedule = services.get_schedule(schedule_id)
    services.remove_layer(schedule, services.get_layer(schedule, layer_id))
    flash("Layer removed.", "success")
    return redirect(url_for("schedules.edit_schedule", schedule_id=schedule.id))


@bp.route("/schedules/<int:schedule_id>/delete", methods=["POST"])
@allow(EDITORS)
def delete_schedule(schedule_id: int):
    schedule = services.get_schedule(schedule_id)
    try:
        services.delete_schedule(schedule)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("schedules.edit_schedule", schedule_id=schedule_id))
    flash(f"Schedule {schedule.name} deleted.", "success")
    return redirect(url_for("schedules.schedules"))


@bp.route("/schedules/my-feed", methods=["GET", "POST"])
@allow(EVERYONE)
def my_feed():
    secret = None
    if request.method == "POST":  # CSRF is checked for every POST before this runs
        _feed, secret = feeds.create_feed(current_user)
    return render_template("oncall/feed.html", feed=feeds.get_feed(current_user),
                           url=feeds.feed_url(secret) if secret else None,
                           past_days=feeds.FEED_PAST.days, ahead_days=feeds.FEED_AHEAD.days)


@bp.route("/schedules/my-feed/revoke", methods=["POST"])
@allow(EVERYONE)
def revoke_feed():
    if feeds.revoke_feed(current_user):
        flash("Calendar feed revoked: its address no longer works.", "success")
    return redirect(url_for("schedules.my_feed"))


@bp.route("/calendar/feed/<secret>.ics")
@public  # the secret in the address is the credential: calendar apps cannot sign in
def feed(secret: str):
    user = feeds.feed_owner(secret)
    if user is None:
        abort(404)
    response = Response(feeds.feed_calendar(user), mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
