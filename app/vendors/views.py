"""Vendor pages: the list, the vendor card (the ladder with tap-to-call links), create, edit, delete, the vCard
download and "Who do I call?" search. The ladder, campaign and CSV pages add their routes to the same blueprint
(create_app() imports them).

Everyone reads (finding the right number in an outage is the point); the crisis team and admins edit.
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import allow, can
from app.auth.roles import EDITORS, EVERYONE
from app.forms_common import form_values
from app.timeutil import today_in
from app.errors import DomainError
from app.vendors import campaign, services, supports
from app.vendors.forms import CheckForm, ConfirmForm, LevelForm, SearchForm, SupportLinkForm, VendorForm
from app.vendors.models import VendorTier
from app.vendors.search import MIN_QUERY, clean_query, search_everything
from app.vendors.vcard import vcard_filename, vendor_vcards
from app.views_common import apply_domain_error, keyset_args, kept_args

bp = Blueprint("vendors", __name__)


def vendor_url(vendor_id: int, contact_id: int | None = None) -> str:
    return url_for("vendors.vendor", vendor_id=vendor_id, _anchor=f"contact-{contact_id}" if contact_id else None)


@bp.route("/vendors")
@allow(EVERYONE)
def vendors():
    q, tier = clean_query(request.args.get("q")), request.args.get("tier") or ""
    after, before, per_page = keyset_args()
    listing = services.vendors_page(q=q, tier=tier, after=after, before=before, per_page=per_page)
    quarter = campaign.quarter_of(current_user)
    progress = {row.vendor.id: row for row in campaign.progress_of(listing.items, quarter,
                                                                   today_in(current_user.time_zone))}
    pager_args = {**kept_args("q", "tier"), **({"per_page": per_page} if "per_page" in request.args else {})}
    return render_template("vendors/list.html", listing=listing, progress=progress, quarter=quarter, q=q,
                           tier=tier, tiers=list(VendorTier), pager_args=pager_args)


@bp.route("/vendors/new", methods=["GET", "POST"])
@allow(EDITORS)
def new_vendor():
    form = VendorForm()
    if form.validate_on_submit():
        try:
            vendor = services.create_vendor(**form_values(form))
        except services.FIXABLE as error:
            apply_domain_error(form, error)
        else:
            flash(f"Vendor {vendor.name} created. Add its escalation ladder below.", "success")
            return redirect(vendor_url(vendor.id))
    return render_template("vendors/vendor_form.html", form=form, vendor=None), 422 if form.errors else 200


def render_vendor(vendor, *, level_form: LevelForm | None = None, status: int = 200):
    """The vendor card; a level form that failed is passed in so its errors show where it was typed."""
    quarter = campaign.quarter_of(current_user)
    progress = campaign.vendor_progress(vendor, quarter, today_in(current_user.time_zone))
    return render_template(
        "vendors/vendor.html", vendor=vendor, progress=progress, quarter=quarter,
        statuses={status.contact.id: status for status in progress.contacts},
        level_form=level_form or LevelForm(formdata=None), check_form=CheckForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None), support_links=[(link, supports.link_url(link))
                                                                for link in vendor.support_links],
        support_choices=supports.support_choices() if can(EDITORS) else []), status


@bp.route("/vendors/<int:vendor_id>")
@allow(EVERYONE)
def vendor(vendor_id: int):
    return render_vendor(services.get_vendor(vendor_id))


@bp.route("/vendors/<int:vendor_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_vendor(vendor_id: int):
    vendor = services.get_vendor(vendor_id)
    form = VendorForm(data=services.vendor_fields(vendor))
    if form.validate_on_submit():
        try:
            services.update_vendor(vendor, **form_values(form))
        except services.FIXABLE as error:
            apply_domain_error(form, error)
        else:
            flash(f"Vendor {vendor.name} saved.", "success")
            return redirect(vendor_url(vendor.id))
    return render_template("vendors/vendor_form.html", form=form, vendor=vendor), 422 if form.errors else 200


@bp.route("/vendors/<int:vendor_id>/delete", methods=["POST"])
@allow(EDITORS)
def delete_vendor(vendor_id: int):
    vendor = services.get_vendor(vendor_id)
    name = vendor.name
    services.delete_vendor(vendor)
    flash(f"Vendor {name} deleted, with its ladder and contacts.", "success")
    return redirect(url_for("vendors.vendors"))


@bp.route("/vendors/<int:vendor_id>/supports", methods=["POST"])
@allow(EDITORS)
def add_support_link(vendor_id: int):
    vendor = services.get_vendor(vendor_id)
    form = SupportLinkForm()
    if form.validate_on_submit():
        try:
            link = supports.add_support_link(vendor, **supports.parse_target(form.target.data))
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(f"{vendor.name} supports {link.kind} {link.label}.", "success")
    else:
        flash("Choose an app or a job.", "error")
    return redirect(url_for("vendors.vendor", vendor_id=vendor.id, _anchor="supports"), 303)


@bp.route("/vendors/<int:vendor_id>/supports/<int:support_link_id>/delete", methods=["POST"])
@allow(EDITORS)
def remove_support_link(vendor_id: int, support_link_id: int):
    vendor = services.get_vendor(vendor_id)
    supports.remove_support_link(vendor, support_link_id)
    flash("Link removed.", "success")
    return redirect(url_for("vendors.vendor", vendor_id=vendor.id, _anchor="supports"), 303)


@bp.route("/vendors/<int:vendor_id>/contacts.vcf")
@allow(EVERYONE)
def vcard(vendor_id: int):
    vendor = services.get_vendor(vendor_id)
    return Response(vendor_vcards(vendor), mimetype="text/vcard", headers={
        "Content-Disposition": f'attachment; filename="{vcard_filename(vendor)}"'})


@bp.route("/search")
@allow(EVERYONE)
def search():
    form = SearchForm(request.args)
    query = clean_query(form.q.data) if form.validate() else ""
    groups = search_everything(query)
    return render_template("vendors/search.html", form=form, query=query, groups=groups, min_query=MIN_QUERY)
