"""Ladder pages: levels (add, rename, move, delete), contacts (add, edit, delete), one-click confirmation of a
contact and the vendor-level checks of the quarterly validation. Editors only."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.access import allow
from app.auth.roles import EDITORS
from app.errors import DomainError
from app.forms_common import form_values
from app.vendors import campaign, ladder, services
from app.vendors.forms import CheckForm, ConfirmForm, ContactForm, LevelForm, MoveForm
from app.vendors.models import VendorCheckKind
from app.vendors.views import bp, render_vendor, vendor_url
from app.views_common import apply_domain_error
from app.timeutil import quarter_label


# --- levels --------------------------------------------------------------------------------------------------

@bp.route("/vendors/<int:vendor_id>/levels", methods=["POST"])
@allow(EDITORS)
def add_level(vendor_id: int):
    vendor = services.get_vendor(vendor_id)
    form = LevelForm()
    if form.validate_on_submit():
        try:
            level = ladder.add_level(vendor, **form_values(form))
        except services.FIXABLE as error:
            apply_domain_error(form, error)
        else:
            flash(f"Level {level.number} added. Add its contacts.", "success")
            return redirect(vendor_url(vendor.id))
    return render_vendor(vendor, level_form=form, status=422)


@bp.route("/vendor-levels/<int:escalation_level_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_level(escalation_level_id: int):
    level = ladder.get_level(escalation_level_id)
    form = LevelForm(data={"label": level.label, "when_to_use": level.when_to_use})
    if form.validate_on_submit():
        try:
            ladder.update_level(level, **form_values(form))
        except services.FIXABLE as error:
            apply_domain_error(form, error)
        else:
            flash(f"Level {level.number} saved.", "success")
            return redirect(vendor_url(level.vendor_id))
    return render_template("vendors/level_form.html", form=form, level=level), 422 if form.errors else 200


@bp.route("/vendor-levels/<int:escalation_level_id>/move", methods=["POST"])
@allow(EDITORS)
def move_level(escalation_level_id: int):
    level = ladder.get_level(escalation_level_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    ladder.move_level(level, form.direction.data)
    return redirect(vendor_url(level.vendor_id))


@bp.route("/vendor-levels/<int:escalation_level_id>/delete", methods=["POST"])
@allow(EDITORS)
def delete_level(escalation_level_id: int):
    level = ladder.get_level(escalation_level_id)
    vendor_id, number = level.vendor_id, level.number
    try:
        ladder.delete_level(level)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"Level {number} deleted; the levels below moved up.", "success")
    return redirect(vendor_url(vendor_id))


# --- contacts ------------------------------------------------------------------------------------------------

def _contact_form(vendor, **kwargs) -> ContactForm:
    form = ContactForm(**kwargs)
    form.level.choices = [SelectChoice(level.number, level.title) for level in vendor.levels]
    return form


def _save_contact(vendor, form: ContactForm, contact=None):
    """Create or change the contact from a valid form; None when the service refused it (errors on the form)."""
    try:
        if contact is None:
            return ladder.create_contact(vendor, **form_values(form))
        return ladder.update_contact(contact, **form_values(form))
    except services.FIXABLE as error:
        apply_domain_error(form, error)
        return None


@bp.route("/vendors/<int:vendor_id>/contacts/new", methods=["GET", "POST"])
@allow(EDITORS)
def new_contact(vendor_id: int):
    vendor = services.get_vendor(vendor_id)
    form = _contact_form(vendor, data={"level": 1, "kind": "external", "time_zone": vendor.support_zone})
    if form.validate_on_submit():
        contact = _save_contact(vendor, form)
        if contact is not None:
            flash(f"{contact.name} added to level {contact.level.number}.", "success")
            return redirect(vendor_url(vendor.id, contact.id))
    return render_template("vendors/contact_form.html", form=form, vendor=vendor, contact=None), \
        422 if form.errors else 200


@bp.route("/vendor-contacts/<int:vendor_contact_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_contact(vendor_contact_id: int):
    contact = ladder.get_contact(vendor_contact_id)
    vendor = contact.vendor
    form = _contact_form(vendor, data=ladder.contact_fields(contact))
    if form.validate_on_submit() and _save_contact(vendor, form, contact) is not None:
        flash(f"{contact.name} saved.", "success")
        return redirect(vendor_url(vendor.id, contact.id))
    return render_template("vendors/contact_form.html", form=form, vendor=vendor, contact=contact), \
        422 if form.errors else 200


@bp.route("/vendor-contacts/<int:vendor_contact_id>/delete", methods=["POST"])
@allow(EDITORS)
def delete_contact(vendor_contact_id: int):
    contact = ladder.get_contact(vendor_contact_id)
    vendor_id, name = contact.vendor_id, contact.name
    ladder.delete_contact(contact)
    flash(f"{name} deleted.", "success")
    return redirect(vendor_url(vendor_id))


# --- the quarterly validation ----------------------------------------------------------------------------------

@bp.route("/vendor-contacts/<int:vendor_contact_id>/confirm", methods=["POST"])
@allow(EDITORS)
def confirm_contact(vendor_contact_id: int):
    contact = ladder.get_contact(vendor_contact_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    confirmation = campaign.confirm_contact(current_user, contact)
    flash(f"{contact.name} confirmed for {quarter_label(confirmation.fiscal_year, confirmation.quarter)} "
          f"by {confirmation.confirmed_by_name}.", "success")
    if form.back.data == "campaign":
        return redirect(url_for("vendors.campaign_page", _anchor=f"vendor-{contact.vendor_id}"))
    return redirect(vendor_url(contact.vendor_id, contact.id))


@bp.route("/vendors/<int:vendor_id>/checks", methods=["POST"])
@allow(EDITORS)
def record_check(vendor_id: int):
    vendor = services.get_vendor(vendor_id)
    form = CheckForm()
    if not form.validate_on_submit():
        flash("Choose which check was done.", "error")
        return redirect(vendor_url(vendor.id))
    check = campaign.record_check(current_user, vendor, form.check.data)
    flash(f"{VendorCheckKind(check.kind).label}: recorded for {vendor.name} by {check.done_by_name}.", "success")
    if request.form.get("back") == "campaign":
        return redirect(url_for("vendors.campaign_page", _anchor=f"vendor-{vendor.id}"))
    return redirect(vendor_url(vendor.id))
