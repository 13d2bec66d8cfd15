"""Pages for people: who can be reached, their contact methods, verification, notification rules, confirmation.

Every role may read them (reaching a colleague in a crisis is the point); changing someone's details is
for that person or the crisis team, which the service decides, so these routes are open to every role.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.access import allow
from app.auth.models import User
from app.auth.roles import EVERYONE
from app.forms_common import form_values
from app.oncall import services
from app.oncall.forms import ContactMethodForm, RuleForm, VerifyForm
from app.oncall.models import ContactMethod
from app.timeutil import quarter_label
from app.views_common import apply_domain_error

bp = Blueprint("oncall", __name__)


def _person_url(person_id: int) -> str:
    return url_for("oncall.person", user_id=person_id)


@bp.route("/oncall/people")
@allow(EVERYONE)
def people():
    unconfirmed_only = request.args.get("filter") == "unconfirmed"
    rows = services.people_status(unconfirmed_only=unconfirmed_only)
    return render_template("oncall/people.html", rows=rows, unconfirmed_only=unconfirmed_only)


def _method_choice(method: ContactMethod) -> SelectChoice:
    state = "" if method.is_usable else " (not usable until verified)" if not method.is_verified else " (disabled)"
    label = f" – {method.label}" if method.label else ""
    return SelectChoice(method.id, f"{method.kind.value.upper()} {method.address}{label}{state}")


def _render_person(person: User, *, method_form: ContactMethodForm | None = None, rule_form: RuleForm | None = None,
                   failed_verify: tuple[int, VerifyForm] | None = None, status: int = 200):
    """The person page; the form that failed (if any) is passed in so its errors show where it was typed."""
    methods = services.list_methods(person)
    rule_form = rule_form or RuleForm(formdata=None)
    rule_form.contact_method_id.choices = [_method_choice(method) for method in methods]
    verify_forms = {method.id: VerifyForm(formdata=None) for method in methods if not method.is_usable}
    if failed_verify and failed_verify[0] in verify_forms:
        verify_forms[failed_verify[0]] = failed_verify[1]
    for method_id, form in verify_forms.items():
        # One verify form per method: each field and its label need their own id.
        form.code.id = form.code.label.field_id = f"code-{method_id}"
    quarter = services.quarter_of(person)
    editable = services.can_edit_contacts(current_user, person)
    rules = services.list_rules(person)
    return render_template(
        "oncall/person.html", person=person, methods=methods, rules=rules,
        verify_forms=verify_forms, method_form=method_form or ContactMethodForm(formdata=None), rule_form=rule_form,
        code_messages={method_id: services.last_code_message(method) for method in methods
                       if (method_id := method.id) in verify_forms and method.code_sent_at},
        editable=editable, is_self=person.id == current_user.id,
        unpaged=_unpaged_methods(methods, rules) if editable else [],
        quarter=quarter, confirmation=services.confirmation_for(person, quarter),
        phoneable=services.has_verified_phone(person.id)), status


def _unpaged_methods(methods: list[ContactMethod], rules) -> list[ContactMethod]:
    """Verified methods no rule uses: the person believes they are reachable there and is not, so the page asks."""
    used = {rule.contact_method_id for rule in rules}
    return [method for method in methods if method.is_usable and method.id not in used]


@bp.route("/oncall/people/<int:user_id>")
@allow(EVERYONE)
def person(user_id: int):
    return _render_person(services.get_person(user_id))


@bp.route("/oncall/people/<int:user_id>/contact-methods", methods=["POST"])
@allow(EVERYONE)
def add_method(user_id: int):
    person = services.get_person(user_id)
    services.ensure_can_edit(current_user, person)  # before reading the form: a stranger learns nothing from it
    form = ContactMethodForm()
    if form.validate_on_submit():
        try:
            method = services.add_method(current_user, person, **form_values(form))
        except services.FIXABLE as error:
            apply_domain_error(form, error)
        else:
            flash(f"{method.kind.value.upper()} {method.address} added. Send a code to verify it; "
                  "until then it is not used.", "success")
            return redirect(_person_url(person.id))
    return _render_person(person, method_form=form, status=422)


def _editable_method(method_id: int) -> ContactMethod:
    method = services.get_method(method_id)
    services.ensure_can_edit(current_user, method.user)
    return method


@bp.route("/oncall/contact-methods/<int:contact_method_id>/delete", methods=["POST"])
@allow(EVERYONE)
def delete_method(contact_method_id: int):
    method = _editable_method(contact_method_id)
    person_id, address = method.user_id, method.address
    services.delete_method(current_user, method)
    flash(f"{address} deleted, with its notification rules.", "success")
    return redirect(_person_url(person_id))


@bp.route("/oncall/contact-methods/<int:contact_method_id>/send-code", methods=["POST"])
@allow(EVERYONE)
def send_code(contact_method_id: int):
    method = _editable_method(contact_method_id)
    try:
        services.send_code(current_user, method)
    except services.FIXABLE as error:
        flash(error.message, "error")
    else:
        where = "Messages" if method.user_id == current_user.id else f"{method.user.name}'s messages"
        flash(f"A code is on its way to {method.address}; it usually arrives within seconds. Type it below. "
              f"(Without Twilio or SMTP it appears under {where}.)", "success")
    return redirect(_person_url(method.user_id))


@bp.route("/oncall/contact-methods/<int:contact_method_id>/verify", methods=["POST"])
@allow(EVERYONE)
def verify(contact_method_id: int):
    method = _editable_method(contact_method_id)
    form = VerifyForm()
    if form.validate_on_submit():
        try:
            default_rule = services.verify_code(current_user, method, form.code.data)
        except services.FIXABLE as error:
            apply_domain_error(form, error)
        else:
            flash(f"{method.address} is verified.", "success")
            if default_rule:
                flash("There were no notification rules yet, so a notification rule now uses it at once "
                      "(0 minutes) when a page starts. Change it under Notification rules.", "info")
                return redirect(_person_url(method.user_id))
            return redirect(url_for("oncall.person", user_id=method.user_id, _anchor=f"add-to-paging-{method.id}"))
    return _render_person(method.user, failed_verify=(method.id, form), status=422)


@bp.route("/oncall/people/<int:user_id>/notification-rules", methods=["POST"])
@allow(EVERYONE)
def add_rule(user_id: int):
    person = services.get_person(user_id)
    services.ensure_can_edit(current_user, person)
    form = RuleForm()
    if form.validate_on_submit():
        try:
            rule = services.add_rule(current_user, person, **form_values(form))
        except services.FIXABLE as error:
            apply_domain_error(form, error)
        else:
            flash(f"Rule added: {rule.method.address} after {rule.delay_minutes} min.", "success")
            return redirect(_person_url(person.id))
    return _render_person(person, rule_form=form, status=422)


@bp.route("/oncall/notification-rules/<int:notification_rule_id>/delete", methods=["POST"])
@allow(EVERYONE)
def delete_rule(notification_rule_id: int):
    rule = services.get_rule(notification_rule_id)
    person_id = rule.user_id
    services.delete_rule(current_user, rule)
    flash("Notification rule deleted.", "success")
    return redirect(_person_url(person_id))


@bp.route("/oncall/people/<int:user_id>/confirm", methods=["POST"])
@allow(EVERYONE)
def confirm(user_id: int):
    person = services.get_person(user_id)
    try:
        confirmation = services.confirm_contacts(current_user, person)
    except services.FIXABLE as error:
        flash(error.message, "error")
    else:
        flash(f"Thank you: contact details confirmed for "
              f"{quarter_label(confirmation.fiscal_year, confirmation.quarter)}.", "success")
    return redirect(_person_url(person.id))
