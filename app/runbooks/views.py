"""Runbook pages: the catalog, one runbook (with its reviews, runs and readers), the report, what I must read,
the administrator's threshold. Run mode is in run_views.py."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import allow, can
from app.auth.roles import ADMINS, EDITORS, EVERYONE
from app.errors import DomainError
from app.runbooks import catalog, report as reports, reviews, runs, services
from app.runbooks.services import RUNNERS
from app.runbooks.catalog import FLAG_LABELS
from app.runbooks.files import is_valid_slug
from app.runbooks.forms import AcknowledgeForm, ReviewForm, SettingsForm
from app.runbooks.linking import unread_for
from app.runbooks.sync import sync_runbooks
from app.views_common import apply_domain_error

bp = Blueprint("runbooks", __name__, url_prefix="/runbooks")


@bp.app_template_global("runbook_flag_label")
def _flag_label(flag: str) -> str:
    return FLAG_LABELS.get(flag, flag)


@bp.route("")
@allow(EVERYONE)
def index():
    entries = catalog.catalog_entries()
    return render_template("runbooks/index.html", groups=catalog.grouped_by_system(entries), count=len(entries),
                           unread=len(unread_for(current_user)), may_sync=can(EDITORS))


@bp.route("/sync", methods=["POST"])
@allow(EDITORS)
def sync():
    if not AcknowledgeForm().validate_on_submit():
        flash("The form expired. Try again.", "error")
        return redirect(url_for("runbooks.index"))
    summary = sync_runbooks()
    flash("Runbook folder read: " + ", ".join(f"{count} {name}" for name, count in summary.as_dict().items()
                                              if count) + "." if any(summary.as_dict().values()) else
          "Runbook folder read: nothing changed.", "success")
    return redirect(url_for("runbooks.index"))


@bp.route("/report")
@allow(EVERYONE)
def report():
    return render_template("runbooks/report.html", report=reports.build_report(), trend=reports.trend(),
                           measures=reports.MEASURES)


@bp.route("/reading")
@allow(EVERYONE)
def reading():
    return render_template("runbooks/reading.html", unread=unread_for(current_user))


@bp.route("/settings", methods=["GET", "POST"])
@allow(ADMINS)
def settings():
    current = runs.get_settings()
    form = SettingsForm(obj=current) if request.method == "GET" else SettingsForm()
    if form.validate_on_submit():
        try:
            runs.save_settings(error_rate_percent=form.error_rate_percent.data, min_runs=form.min_runs.data,
                               by=current_user)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash("Threshold saved.", "success")
            return redirect(url_for("runbooks.settings"))
    return render_template("runbooks/settings.html", form=form, current=current), 422 if form.errors else 200


def _render(slug: str, review_form: ReviewForm | None = None, status: int = 200):
    runbook = services.get_runbook(slug)
    entry = catalog.entry_for(runbook)
    readers = reviews.acknowledgement_status(runbook)
    mine = reviews.current_acknowledgement(runbook, current_user.id)
    return render_template(
        "runbooks/show.html", entry=entry, runbook=runbook, reading=services.read_runbook(runbook),
        reviews=reviews.reviews_of(runbook), runs=runs.runs_of(runbook), readers=readers, mine=mine,
        must_read=current_user.id in {person.id for person, _done in readers},
        may_review=reviews.may_review(current_user, runbook), may_run=can(RUNNERS),
        review_form=review_form or ReviewForm(formdata=None), ack_form=AcknowledgeForm()), status


@bp.route("/<slug>")
@allow(EVERYONE)
def show(slug: str):
    if slug.endswith(".md") and is_valid_slug(slug[:-3]):  # a link written as the file's name
        return redirect(url_for("runbooks.show", slug=services.get_runbook(slug[:-3]).slug), 301)
    return _render(slug)


@bp.route("/<slug>/reviews", methods=["POST"])
@allow(EVERYONE)
def review(slug: str):
    runbook = services.get_runbook(slug)
    if not reviews.may_review(current_user, runbook):
        abort(403)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            recorded = reviews.record_review(runbook, by=current_user, outcome=form.outcome.data, note=form.note.data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Review recorded: {recorded.outcome.replace('_', ' ')}.", "success")
            return redirect(url_for("runbooks.show", slug=slug))
    return _render(slug, review_form=form, status=422)


@bp.route("/<slug>/acknowledge", methods=["POST"])
@allow(EVERYONE)
def acknowledge(slug: str):
    runbook = services.get_runbook(slug)
    if not AcknowledgeForm().validate_on_submit():
        flash("The form expired. Try again.", "error")
    else:
        try:
            reviews.acknowledge(runbook, user=current_user)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash("Thank you: you have read this version.", "success")
    return redirect(url_for("runbooks.show", slug=slug))
