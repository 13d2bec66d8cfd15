"""Forms for vendors, ladder levels, contacts, checks and CSV import; the API validates JSON with the same classes."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.auth.models import User
from app.extensions import db
from app.forms_common import IntegerField, optional_int, zone_field
from app.vendors.models import MAX_SLA_MINUTES, VendorCheckKind, VendorContactKind, VendorTier

TIER_CHOICES = [SelectChoice(VendorTier.CRITICAL.value, "Critical"),
                SelectChoice(VendorTier.IMPORTANT.value, "Important"),
                SelectChoice(VendorTier.OTHER.value, "Other")]
KIND_CHOICES = [SelectChoice(VendorContactKind.EXTERNAL.value, "External (the vendor's people)"),
                SelectChoice(VendorContactKind.INTERNAL.value, "Internal (our people)")]
NONE_CHOICE = SelectChoice("", "— none —")


def _sla(label: str) -> IntegerField:
    return IntegerField(label, validators=[Optional(), NumberRange(1, MAX_SLA_MINUTES)],
                        description="Minutes to respond; empty when the contract does not say",
                        render_kw={"inputmode": "numeric"})


def _people_field(label: str, description: str) -> SelectField:
    # Choices are filled by PeopleChoicesForm; the service checks the id, so the API needs no choices.
    return SelectField(label, coerce=optional_int, choices=[NONE_CHOICE], validate_choice=False,
                       description=description)


class PeopleChoicesForm(FlaskForm):
    """A form whose people selects list the active users."""

    PEOPLE_FIELDS = ("owner_id", "user_id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = [name for name in self.PEOPLE_FIELDS if name in self._fields]
        if names:
            people = db.session.execute(select(User.id, User.name, User.email).where(User.active.is_(True))
                                        .order_by(User.name)).all()
            for name in names:
                self._fields[name].choices = [NONE_CHOICE] + [SelectChoice(uid, f"{who} ({email})")
                                                              for uid, who, email in people]


class VendorForm(PeopleChoicesForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    tier = SelectField("Tier", choices=TIER_CHOICES, validators=[DataRequired()],
                       description="Critical and important vendors are validated every quarter")
    supports = TextAreaField("What it supports", validators=[Optional(), Length(max=2000)],
                             description="Apps, jobs and processes that depend on it, e.g. 'ERP: order to cash'")
    contract_id = StringField("Contract id", validators=[Optional(), Length(max=80)])
    contract_level = StringField("Support level", validators=[Optional(), Length(max=60)],
                                 description="e.g. Premier, Gold, 24x7")
    contract_expires = DateField("Contract expires", validators=[Optional()], description="YYYY-MM-DD")
    portal_url = StringField("Support portal", validators=[Optional(), Length(max=500)],
                             description="https:// address where cases are opened")
    account_number = StringField("Account number", validators=[Optional(), Length(max=80)])
    support_hours = StringField("Support hours", validators=[Optional(), Length(max=80)],
                                description="e.g. 24x7, or Mon–Fri 08:00–18:00")
    support_zone = zone_field("Support time zone")
    sla_p1_minutes = _sla("P1 response (minutes)")
    sla_p2_minutes = _sla("P2 response (minutes)")
    sla_p3_minutes = _sla("P3 response (minutes)")
    owner_id = _people_field("Owner", "id of the person who keeps this vendor's contacts true (reminded each quarter)")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])


class SupportLinkForm(FlaskForm):
    """On the vendor page: one list of apps and jobs ("app:3")."""
    target = SelectField("App or job", validators=[DataRequired()], validate_choice=False)


class SupportLinkApiForm(FlaskForm):
    kind = SelectField("Kind", choices=[SelectChoice("app", "App"), SelectChoice("job", "Job")],
                       validators=[DataRequired()])
    target_id = IntegerField("App or job id", validators=[InputRequired(), NumberRange(min=1)])


class LevelForm(FlaskForm):
    label = StringField("Label", validators=[Optional(), Length(max=80)],
                        description="e.g. Service desk, Duty manager, Account executive")
    when_to_use = StringField("When to call", validators=[Optional(), Length(max=200)],
                              description="e.g. 'No answer from level 1 within 30 minutes'")


class MoveForm(FlaskForm):
    direction = SelectField("Direction", choices=[SelectChoice("up", "Up"), SelectChoice("down", "Down")],
                            validators=[DataRequired()])


class ContactForm(PeopleChoicesForm):
    # The page offers the vendor's levels; the service checks the number for the API too.
    level = SelectField("Level", coerce=optional_int, choices=[], validate_choice=False,
                        validators=[InputRequired()], description="1 is called first")
    kind = SelectField("Kind", choices=KIND_CHOICES, validators=[DataRequired()])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)],
                       description="A person, or a desk such as 'Service desk'")
    role = StringField("Role", validators=[Optional(), Length(max=120)])
    phone = StringField("Phone", validators=[Optional(), Length(max=40)],
                        description="With +country code, e.g. +44 20 7946 0958",
                        render_kw={"inputmode": "tel", "autocomplete": "off"})
    mobile = StringField("Mobile", validators=[Optional(), Length(max=40)], render_kw={"inputmode": "tel",
                                                                                      "autocomplete": "off"})
    email = StringField("Email", validators=[Optional(), Length(max=254)], render_kw={"inputmode": "email"})
    hours = StringField("Hours", validators=[Optional(), Length(max=80)], description="e.g. 24x7, Mon–Fri 09:00–17:00")
    time_zone = zone_field()
    user_id = _people_field("Quarterdeck user", "id of the user this internal contact is, if any")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])


class CheckForm(FlaskForm):
    check = SelectField("Check", choices=[SelectChoice(kind.value, kind.label) for kind in VendorCheckKind],
                        validators=[DataRequired()], description="list: contact list reviewed; "
                                                                 "plan: escalation plan reviewed with the vendor")


class ConfirmForm(FlaskForm):
    """One click: only the CSRF token. `back` says which page to return to."""

    back = HiddenField(validators=[Optional()])


class ImportForm(FlaskForm):
    kind = SelectField("What the file holds", choices=[SelectChoice("vendors", "Vendors"),
                                                       SelectChoice("contacts", "Contacts")],
                       validators=[DataRequired()])
    file = FileField("CSV file", description="UTF-8 CSV with a header row, as the export writes it")
    csv_text = HiddenField()  # the checked file, carried to the "apply" step


class ImportApiForm(FlaskForm):
    kind = SelectField("Kind", choices=[SelectChoice("vendors", "Vendors"), SelectChoice("contacts", "Contacts")],
                       validators=[DataRequired()])
    csv = TextAreaField("CSV", validators=[DataRequired()], description="the CSV text, header row first")
    confirm = BooleanField("Confirm", description="true: apply when no row is refused; "
                                                  "false or left out: a dry run that changes nothing")


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that reads, from the top bar of every page

    q = StringField("Search", validators=[Optional(), Length(max=100)])
