"""The validation campaign page, and CSV export and import (a dry run first, applied only when confirmed)."""
from __future__ import annotations


from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import allow
from app.auth.roles import EDITORS, EVERYONE
from app.errors import DomainError
from app.calendar.models import business_calendar
from app.timeutil import close_day, today_in
from app.vendors import campaign, vendor_csv
from app.vendors.vendor_csv import import_csv
from app.vendors.forms import CheckForm, ConfirmForm, ImportForm
from app.vendors.views import bp
from app.views_common import apply_domain_error, carry_csv_text, csv_import_text, keyset_args, kept_args


@bp.route("/vendors/campaign")
@allow(EVERYONE)
def campaign_page():
    quarter = campaign.quarter_of(current_user)
    today = today_in(current_user.time_zone)
    pending_only = request.args.get("show") == "pending"
    after, before, per_page = keyset_args()
    listing = campaign.campaign_vendors_page(after=after, before=before, per_page=per_page)
    pager_args = {**kept_args("show"), **({"per_page": per_page} if "per_page" in request.args else {})}
    rows = campaign.progress_of(listing.items, quarter, today)
    if pending_only:
        rows = [row for row in rows if not row.validated]
    region = current_user.region
    calendar = region.calendar if region is not None else business_calendar(None, None)
    return render_template("vendors/campaign.html", quarter=quarter, rows=rows, listing=listing, pager_args=pager_args,
                           totals=campaign.campaign_totals(quarter, today), pending_only=pending_only,
                           close=close_day(quarter, calendar), confirm_form=ConfirmForm(formdata=None),
                           check_form=CheckForm(formdata=None))


@bp.route("/vendors/export.csv")
@allow(EVERYONE)
def export_csv():
    kind = request.args.get("kind") or "vendors"
    if kind not in vendor_csv.KINDS:
        kind = "vendors"
    return Response(vendor_csv.export_csv(kind), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{vendor_csv.export_filename(kind)}"'})


@bp.route("/vendors/import", methods=["GET", "POST"])
@allow(EDITORS)
def import_page():
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        try:
            text, applying = csv_import_text(form, vendor_csv.decode_upload)
            report = import_csv(kind=form.kind.data, text=text, apply=applying)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            if report.applied:
                flash(f"Imported {report.kind}: {report.count('create')} created, {report.count('update')} "
                      f"updated, {report.count('unchanged')} unchanged.", "success")
                return redirect(url_for("vendors.vendors"))
            carry_csv_text(form, text)  # checked again when applied
    status = 422 if form.errors or (report and report.error_count) else 200
    return render_template("vendors/import.html", form=form, report=report), status
