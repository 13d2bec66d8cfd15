"""Forms for rotations, schedules, layers and overrides; the API validates JSON with the same classes."""
from __future__ import annotations

from types import SimpleNamespace

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (DateField, SelectField, SelectMultipleField, StringField, TextAreaField,
                     TimeField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.models import User
from app.extensions import db
from app.forms_common import InstantField, IntegerField, database_int, optional_int, zone_field
from app.oncall.models import OverrideMode, Rotation

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_CHOICES = [SelectChoice(number, name) for number, name in enumerate(DAY_NAMES)]
HANDOFF_CHOICES = [SelectChoice("hourly", "Every N hours"), SelectChoice("daily", "Every N days"),
                   SelectChoice("weekly", "Every N weeks"), SelectChoice("custom", "Custom: every N hours")]
MODE_CHOICES = [SelectChoice(OverrideMode.REPLACE.value, "Replace"), SelectChoice(OverrideMode.ADD.value, "Add")]


def _active_people() -> list[SelectChoice]:
    rows = db.session.execute(select(User.id, User.name, User.email).where(User.active.is_(True))
                              .order_by(User.name)).all()
    return [SelectChoice(uid, f"{name} ({email})") for uid, name, email in rows]


class RotationSettingsForm(FlaskForm):
    """A rotation without its people (the HTML edit page; people are ordered on the rotation's page)."""

    name = StringField("Name", validators=[DataRequired(), Length(max=80)], description="e.g. EMEA primary")
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    time_zone = zone_field()
    start_date = DateField("First hand-off date", validators=[InputRequired()],
                           description="Local date in the rotation's zone, YYYY-MM-DD")
    start_time = TimeField("Hand-off time", validators=[InputRequired()],
                           description="HH:MM, local: every hand-off happens at this wall-clock time")
    handoff_kind = SelectField("Hand-off", choices=HANDOFF_CHOICES, validators=[DataRequired()])
    shift_length = IntegerField("Shift length (N)", default=1,
                                validators=[InputRequired(), NumberRange(min=1, max=1000)],
                                description="hours, days or weeks per shift, 1 to 1000")


class RotationForm(RotationSettingsForm):
    """A whole rotation, with its people in order (create page and API)."""

    member_ids = SelectMultipleField("People, in order", coerce=database_int, validate_choice=False,
                                     description="user ids in hand-off order; each person once")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.member_ids.choices = _active_people()


class MemberForm(FlaskForm):
    user_id = SelectField("Person", coerce=database_int, validate_choice=False, validators=[InputRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_id.choices = _active_people()


class ScheduleForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)], description="e.g. Follow the sun")
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    time_zone = zone_field("Home time zone")


class LayerForm(FlaskForm):
    rotation_id = SelectField("Rotation", coerce=database_int, validate_choice=False, validators=[InputRequired()],
                              description="id of a rotation")
    time_zone = zone_field("Zone of the window")
    days = SelectMultipleField("Days", coerce=database_int, choices=DAY_CHOICES, default=[0, 1, 2, 3, 4],
                               widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                               description="days of the week, 0 = Monday ... 6 = Sunday")
    start_time = TimeField("From", validators=[InputRequired()], description="HH:MM, local")
    end_time = TimeField("Until", validators=[InputRequired()],
                         description="HH:MM, local; at or before 'From' runs past midnight (equal: all day)")
    position = IntegerField("Position", validators=[Optional(), NumberRange(min=0, max=99)],
                            description="0 = first; the first layer covering an instant decides")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rows = db.session.execute(select(Rotation.id, Rotation.name).order_by(Rotation.name)).all()
        self.rotation_id.choices = [SelectChoice(rid, name) for rid, name in rows]


class OverrideForm(FlaskForm):
    user_id = SelectField("Person on call", coerce=database_int, validate_choice=False, validators=[InputRequired()])
    mode = SelectField("Mode", choices=MODE_CHOICES, default="replace", validators=[DataRequired()],
                       description="replace: instead of someone; add: beside whoever is on call")
    replaces_user_id = SelectField("Instead of", coerce=optional_int, validate_choice=False,
                                   description="with replace: the person covered for; empty = everyone")
    start_at = InstantField("From", validators=[InputRequired()])
    end_at = InstantField("Until", validators=[InputRequired()])
    reason = StringField("Reason", validators=[Optional(), Length(max=200)], description="e.g. PTO, swap")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = _active_people()
        self.user_id.choices = people
        self.replaces_user_id.choices = [SelectChoice("", "— everyone —")] + people


class MoveForm(FlaskForm):
    direction = SelectField("Move", choices=[SelectChoice("up", "Up"), SelectChoice("down", "Down")],
                            validators=[DataRequired()])


def rotation_fields(rotation: Rotation) -> SimpleNamespace:
    """A rotation as its form sees it (start split into date and time, people as ids), for edits and PATCH."""
    return SimpleNamespace(name=rotation.name, description=rotation.description, time_zone=rotation.time_zone,
                           start_date=rotation.start_local.date(), start_time=rotation.start_local.time(),
                           handoff_kind=rotation.handoff_kind.value, shift_length=rotation.shift_length,
                           member_ids=[member.user_id for member in rotation.members])


def layer_fields(layer) -> SimpleNamespace:
    return SimpleNamespace(rotation_id=layer.rotation_id, time_zone=layer.time_zone, days=sorted(layer.weekdays),
                           start_time=layer.start_time, end_time=layer.end_time, position=layer.position)


def days_label(days: frozenset[int] | set[int]) -> str:
    """'every day', 'Mon–Fri', 'Sat–Sun' or 'Mon, Wed, Fri'."""
    ordered = sorted(days)
    if len(ordered) == 7:
        return "every day"
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{DAY_NAMES[ordered[0]]}–{DAY_NAMES[ordered[-1]]}"
    return ", ".join(DAY_NAMES[day] for day in ordered)
