"""Forms for continuity plans, simulation tests, sites and readiness checks."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.drtests.continuity_models import SimulationResult
from app.forms_common import IntegerField, database_int, optional_int, zone_field
from app.vendors.forms import NONE_CHOICE, PeopleChoicesForm


class PlanForm(PeopleChoicesForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)], description="e.g. Order fulfilment")
    owner_id = SelectField("Owner", coerce=optional_int, choices=[NONE_CHOICE], validate_choice=False)
    scope = TextAreaField("Scope", validators=[Optional(), Length(max=5000)])
    teams = StringField("Teams involved", validators=[Optional(), Length(max=500)])
    review_due = DateField("Review due", validators=[Optional()], description="YYYY-MM-DD")
    site_ids = SelectMultipleField("Sites", coerce=database_int, choices=[], validate_choice=False,
                                   description="ids of the alternate sites and operation rooms it uses")


class SimulationForm(FlaskForm):
    held_on = DateField("Held on", validators=[DataRequired()], description="YYYY-MM-DD")
    result = SelectField("Result", choices=[SelectChoice(r.value, r.value.replace("_", " ").capitalize())
                                            for r in SimulationResult], validators=[DataRequired()])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])


class SiteForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    city = StringField("City", validators=[Optional(), Length(max=120)])
    time_zone = zone_field("Zone")
    capacity = IntegerField("Capacity (seats)", default=0, validators=[InputRequired(), NumberRange(0, 100000)])
    operation_room = TextAreaField("Operation room", validators=[Optional(), Length(max=5000)],
                                   description="Room, bridge line, equipment, how to get access")


class CheckForm(FlaskForm):
    notes = StringField("Notes", validators=[Optional(), Length(max=500)])
