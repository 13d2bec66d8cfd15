"""Forms of the register; the API validates JSON with the same classes."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import (BooleanField, DateField, DecimalField, HiddenField, SelectField, StringField,
                     TextAreaField, TimeField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.auth.models import User
from app.extensions import db
from app.forms_common import IntegerField, database_int, optional_int, zone_field
from app.risks.models import ActionStatus, RiskCategory, RiskLevel, RiskSource
from app.risks.scoring import IMPACT_WORDS, LIKELIHOOD_WORDS, WEEKDAYS, cell_field
from app.risks.workflow import TRANSITIONS

NONE_CHOICE = SelectChoice("", "— choose —")
CATEGORY_CHOICES = [SelectChoice(c.value, c.label) for c in RiskCategory]
SOURCE_CHOICES = [SelectChoice(s.value, s.label) for s in RiskSource]
LEVEL_CHOICES = [SelectChoice(level.value, level.label) for level in RiskLevel]


def score_field(label: str, words: dict[int, str], description: str) -> SelectField:
    return SelectField(label, coerce=database_int, choices=[SelectChoice(n, f"{n} · {word}") for n, word in words.items()],
                       validators=[InputRequired()], description=description)


def people_field(label: str, description: str) -> SelectField:
    # Choices are filled by PeopleForm; the service checks the id, so the API needs no choices.
    return SelectField(label, coerce=optional_int, choices=[NONE_CHOICE], validate_choice=False,
                       validators=[DataRequired()], description=description)


class PeopleForm(FlaskForm):
    """A form whose `owner_id` select lists the active people."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "owner_id" in self._fields:
            people = db.session.execute(select(User.id, User.name).where(User.active.is_(True))
                                        .order_by(User.name)).all()
            self.owner_id.choices = [NONE_CHOICE] + [SelectChoice(uid, name) for uid, name in people]


class RiskForm(PeopleForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)],
                        description="What could go wrong, in a few words")
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)],
                                description="Cause, what it would do to the close, what is in place")
    category = SelectField("Category", choices=CATEGORY_CHOICES, validators=[DataRequired()])
    source = SelectField("Source", choices=SOURCE_CHOICES, validators=[DataRequired()])
    owner_id = people_field("Owner", "id of the person who owns the risk")
    # Choices are the next quarters, filled by the page; the service parses any "Q4 FY27".
    quarter = SelectField("Quarter it threatens", choices=[], validate_choice=False, validators=[DataRequired()],
                          description="e.g. Q4 FY27")
    exposure = DecimalField("Close exposure", places=2, validators=[Optional(), NumberRange(min=0)],
                            description="Amount of revenue or bookings at risk, if known",
                            render_kw={"inputmode": "decimal"})
    inherent_likelihood = score_field("Inherent likelihood", LIKELIHOOD_WORDS, "1..5 before any mitigation")
    inherent_impact = score_field("Inherent impact", IMPACT_WORDS, "1..5 before any mitigation")
    likelihood = score_field("Residual likelihood", LIKELIHOOD_WORDS, "1..5 with the mitigations in place")
    impact = score_field("Residual impact", IMPACT_WORDS, "1..5 with the mitigations in place")


def unscored_field(label: str, words: dict[int, str], description: str) -> SelectField:
    """A score that starts unchosen: a new risk left at 1×1 would look low when nobody scored it."""
    return SelectField(label, coerce=optional_int,
                       choices=[SelectChoice("", "Choose…")] + [SelectChoice(n, f"{n} · {word}")
                                                                for n, word in words.items()],
                       validators=[InputRequired("Score it: choose 1 to 5.")], description=description)


class NewRiskForm(RiskForm):
    """Creating a risk: scoring it is part of creating it."""

    inherent_likelihood = unscored_field("Inherent likelihood", LIKELIHOOD_WORDS, "1..5 before any mitigation")
    inherent_impact = unscored_field("Inherent impact", IMPACT_WORDS, "1..5 before any mitigation")
    likelihood = unscored_field("Residual likelihood", LIKELIHOOD_WORDS, "1..5 with the mitigations in place")
    impact = unscored_field("Residual impact", IMPACT_WORDS, "1..5 with the mitigations in place")


class TransitionForm(FlaskForm):
    transition = SelectField("Change", choices=[SelectChoice(t.name, t.label) for t in TRANSITIONS.values()],
                             validators=[DataRequired()],
                             description="start, mitigated, accept, close or reopen")
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=2000)],
                           description="Needed to close or accept")
    expires_on = DateField("Acceptance expires", validators=[Optional()],
                           description="Needed to accept: the last day the acceptance holds (YYYY-MM-DD)")


class ActionForm(PeopleForm):
    description = TextAreaField("Action", validators=[DataRequired(), Length(max=2000)],
                                description="What will be done")
    owner_id = people_field("Owner", "id of the person who does it")
    due_on = DateField("Due", validators=[DataRequired()], description="YYYY-MM-DD")


class ActionStatusForm(FlaskForm):
    status = SelectField("Status", choices=[SelectChoice(s.value, s.label) for s in ActionStatus],
                         validators=[DataRequired()])
    reason = StringField("Reason", validators=[Optional(), Length(max=2000)], description="Needed to drop it")


class CommentForm(FlaskForm):
    body = TextAreaField("Comment", validators=[DataRequired(), Length(max=5000)])


class AcknowledgeForm(FlaskForm):
    note = StringField("Note", validators=[Optional(), Length(max=2000)],
                       description="optional: what you will do, or who you asked")


class LinkPickForm(FlaskForm):
    """The risk page's link form: a name typed or picked from the search; the picker also fills kind and id."""
    target = StringField("App, job or vendor", validators=[DataRequired("Type part of a name and choose from the list."),
                                                            Length(max=300)],
                         description="Type part of its name, e.g. “Job · Billing run (Billing)” or “Billing run”",
                         render_kw={"list": "link-targets", "autocomplete": "off", "maxlength": 300})
    kind = HiddenField()
    target_id = HiddenField()


class ImportForm(FlaskForm):
    file = FileField("CSV file", description="UTF-8 CSV with a header row, as the export writes it")
    csv_text = HiddenField()  # the checked file, carried to the "apply" step


class ImportApiForm(FlaskForm):
    csv = TextAreaField("CSV", validators=[DataRequired()], description="the CSV text, header row first")
    confirm = BooleanField("Confirm", description="true: apply when no row is refused; "
                                                  "false or left out: a dry run that changes nothing")


def _cell(likelihood: int, impact: int) -> SelectField:
    return SelectField(f"Likelihood {likelihood}, impact {impact}", choices=LEVEL_CHOICES,
                       validators=[DataRequired()])


def _days(label: str) -> IntegerField:
    return IntegerField(label, validators=[InputRequired(), NumberRange(1, 366)], render_kw={"inputmode": "numeric"})


class SettingsForm(FlaskForm):
    cadence_critical_days = _days("Critical: review every (days)")
    cadence_high_days = _days("High: review every (days)")
    cadence_medium_days = _days("Medium: review every (days)")
    cadence_low_days = _days("Low: review every (days)")
    stale_days = IntegerField("Stale after (days without an update)", validators=[InputRequired(),
                                                                                  NumberRange(1, 365)])
    review_weekday = SelectField("Agenda built on", coerce=database_int,
                                 choices=[SelectChoice(n, day) for n, day in enumerate(WEEKDAYS)],
                                 validators=[InputRequired()])
    review_time = TimeField("Time", validators=[DataRequired()], description="HH:MM, in the zone below")
    review_zone = zone_field("Review time zone")


for _l in range(1, 6):
    for _i in range(1, 6):
        setattr(SettingsForm, cell_field(_l, _i), _cell(_l, _i))
