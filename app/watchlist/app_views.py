"""Pages for the apps of the watch list: list, view, create, edit, delete (added to the watchlist blueprint)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.access import allow
from app.auth.roles import EDITORS, EVERYONE
from app.errors import Conflict, DomainError
from app.forms_common import form_values
from app.views_common import apply_domain_error
from app.watchlist import services
from app.watchlist.forms import AppForm
from app.watchlist.views import bp


@bp.route("/watchlist/apps")
@allow(EVERYONE)
def apps():
    return render_template("watchlist/apps.html", apps=services.list_apps())


@bp.route("/watchlist/apps/new", methods=["GET", "POST"])
@allow(EDITORS)
def new_app():
    form = AppForm()
    if form.validate_on_submit():
        try:
            app = services.save_app(None, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"App {app.name} created. Add its jobs next.", "success")
            return redirect(url_for("watchlist.app", app_id=app.id))
    return render_template("watchlist/app_form.html", form=form, app=None), 422 if form.errors else 200


@bp.route("/watchlist/apps/<int:app_id>")
@allow(EVERYONE)
def app(app_id: int):
    return render_template("watchlist/app.html", app=services.get_app(app_id))


@bp.route("/watchlist/apps/<int:app_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_app(app_id: int):
    app = services.get_app(app_id)
    form = AppForm() if request.method == "POST" else AppForm(obj=app)
    if form.validate_on_submit():
        try:
            services.save_app(app, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"App {app.name} saved.", "success")
            return redirect(url_for("watchlist.app", app_id=app.id))
    return render_template("watchlist/app_form.html", form=form, app=app), 422 if form.errors else 200


@bp.route("/watchlist/apps/<int:app_id>/delete", methods=["POST"])
@allow(EDITORS)
def delete_app(app_id: int):
    app = services.get_app(app_id)
    name = app.name
    try:
        services.delete_app(app)
    except Conflict as error:
        flash(error.message, "error")
        return redirect(url_for("watchlist.app", app_id=app_id))
    flash(f"App {name} deleted.", "success")
    return redirect(url_for("watchlist.apps"))
