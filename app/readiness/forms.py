"""Forms for checklist items, the template and lessons; the API validates JSON with the same classes."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from app.forms_common import IntegerField, optional_int
from app.readiness.models import ItemStatus, Track

STATUS_CHOICES = [SelectChoice(status.value, status.label) for status in ItemStatus]
TRACK_CHOICES = [SelectChoice(track.value, track.label) for track in Track]
QUARTER_PATTERN = r"^\s*[Ff][Yy]\d{2}(\d{2})?-[Qq][1-4]\s*$"


class ItemStatusForm(FlaskForm):
    status = SelectField("Status", choices=STATUS_CHOICES, validators=[DataRequired()])
    evidence = StringField("Evidence (note or link)", validators=[Optional(), Length(max=2000)],
                           description="Needed to mark done when the item asks for evidence")
    na_reason = StringField("Reason if not applicable", validators=[Optional(), Length(max=2000)])


class TemplateItemForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    track = SelectField("Track", choices=TRACK_CHOICES, validators=[DataRequired()])
    owner_id = SelectField("Owner (person)", coerce=optional_int, choices=[], validate_choice=False,
                           validators=[Optional()], description="id of a person; or name a role below")
    owner_role = StringField("Owner (role)", validators=[Optional(), Length(max=80)],
                             description="e.g. Crisis team, IT operations")
    region_id = SelectField("Region", coerce=optional_int, choices=[], validate_choice=False, validators=[Optional()],
                            description="Whose business days count; default: the owner's region")
    bd_offset = IntegerField("Due (business days from close)", validators=[InputRequired(), NumberRange(-120, 60)],
                             description="-30 means BD-30; 10 means BD+10", render_kw={"inputmode": "numeric"})
    evidence_required = BooleanField("Evidence required")
    active = BooleanField("Active (copied into new quarters)", default=True)


class LessonEditForm(FlaskForm):
    title = StringField("Lesson", validators=[DataRequired(), Length(max=200)])
    recommendation = TextAreaField("Recommendation", validators=[DataRequired(), Length(max=5000)])
    owner_id = SelectField("Owner", coerce=optional_int, choices=[], validate_choice=False, validators=[Optional()])


class LessonForm(FlaskForm):
    title = StringField("Lesson", validators=[DataRequired(), Length(max=200)])
    recommendation = TextAreaField("Recommendation", validators=[DataRequired(), Length(max=5000)])
    owner_id = SelectField("Owner", coerce=optional_int, choices=[], validate_choice=False, validators=[Optional()])
    learned_in = StringField("Learned at the close of", validators=[DataRequired(), Regexp(QUARTER_PATTERN,
                             message="Name a quarter like FY27-Q3.")], description="e.g. FY27-Q3")
    target_quarter = StringField("Carry into", validators=[DataRequired(), Regexp(QUARTER_PATTERN,
                                 message="Name a quarter like FY27-Q4.")], description="e.g. FY27-Q4")
