"""Forms for templates, steps, exercises, step transitions, evidence and findings; the API validates JSON with
the same classes. Every write to an exercise or a step carries the version the page was built from."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, HiddenField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.drtests.models import ExerciseKind, FindingStatus, Outcome, Phase, Severity
from app.forms_common import InstantField, IntegerField, database_int, optional_int
from app.vendors.forms import NONE_CHOICE, PeopleChoicesForm


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


PHASE_CHOICES = [SelectChoice(p.value, _label(p.value)) for p in Phase]
KIND_CHOICES = [SelectChoice(k.value, _label(k.value)) for k in ExerciseKind]
OUTCOME_CHOICES = [SelectChoice(o.value, _label(o.value)) for o in Outcome if o != Outcome.SKIPPED]
SEVERITY_CHOICES = [SelectChoice(s.value, _label(s.value)) for s in Severity]
STATUS_CHOICES = [SelectChoice(s.value, _label(s.value)) for s in FindingStatus]
MAX_MINUTES = 7 * 24 * 60


def _version() -> IntegerField:
    # Hidden in the page; sent back so a write based on an older page is refused, not merged.
    return IntegerField("Version", validators=[Optional(), NumberRange(1)], widget=HiddenField.widget,
                        description="the version you read; a different current version means someone else wrote")


class TemplateForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)], description="e.g. ERP failover/failback")
    systems = StringField("Systems covered", validators=[Optional(), Length(max=500)],
                          description="Apps from the watch list, comma-separated")
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    rto_minutes = IntegerField("RTO target (minutes)", validators=[InputRequired(), NumberRange(1, MAX_MINUTES)],
                               description="Longest acceptable time from failover start to validated service")
    rpo_minutes = IntegerField("RPO target (minutes)", validators=[InputRequired(), NumberRange(0, MAX_MINUTES)],
                               description="Most data, in minutes of transactions, that may be lost")


class StepForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    instructions = TextAreaField("Instructions", validators=[Optional(), Length(max=20000)],
                                 description="Markdown: lists, **bold**, `code`, [links](https://...)")
    owner = StringField("Role or owner", validators=[Optional(), Length(max=120)], description="e.g. DBA on call")
    expected_minutes = IntegerField("Expected minutes", default=0,
                                    validators=[InputRequired(), NumberRange(0, MAX_MINUTES)])
    phase = SelectField("Phase", choices=PHASE_CHOICES, validators=[DataRequired()])
    depends_on = StringField("Depends on steps", validators=[Optional(), Length(max=200)],
                             description="Numbers of earlier steps that must be finished first, e.g. 2, 3")
    counts_toward_recovery = BooleanField("Counts toward recovery time", default=True)
    evidence_required = BooleanField("Evidence required")
    critical = BooleanField("Critical (its failure fails the test)")


class ExerciseForm(PeopleChoicesForm):
    PEOPLE_FIELDS = ("owner_id", "participant_ids")

    template_id = SelectField("Template", coerce=optional_int, choices=[], validate_choice=False,
                              validators=[InputRequired()], description="id of the DR test template")
    name = StringField("Name", validators=[Optional(), Length(max=160)],
                       description="Left empty: the template's name and the quarter")
    kind = SelectField("Type", choices=KIND_CHOICES, validators=[DataRequired()])
    scheduled_for = InstantField("Scheduled for", validators=[InputRequired()])
    fiscal_year = IntegerField("Fiscal year", validators=[Optional(), NumberRange(2000, 2100)],
                               description="Left empty: the quarter the date falls in")
    quarter = IntegerField("Quarter", validators=[Optional(), NumberRange(1, 4)])
    owner_id = SelectField("Owner", coerce=optional_int, choices=[NONE_CHOICE], validate_choice=False,
                           description="id of the person who signs the exercise off")
    participant_ids = SelectMultipleField("Participants", coerce=database_int, choices=[], validate_choice=False,
                                          description="ids of the people reminded before it and working its steps")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A multiple select has no "none" entry (choosing nobody is the empty selection).
        self.participant_ids.choices = [c for c in self.participant_ids.choices if c.value != ""]


class ExerciseEditForm(ExerciseForm):
    """Rescheduling: everything but the template (the steps were copied when it was scheduled)."""
    template_id = None
    version = _version()


class StepMoveForm(FlaskForm):
    direction = SelectField("Direction", choices=[SelectChoice("up", "Up"), SelectChoice("down", "Down")],
                            validators=[DataRequired()])


class VersionForm(FlaskForm):
    version = _version()


class CompleteForm(FlaskForm):
    version = _version()
    outcome = SelectField("Outcome", choices=OUTCOME_CHOICES, validators=[DataRequired()])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])


class SkipForm(FlaskForm):
    version = _version()
    reason = StringField("Reason", validators=[DataRequired(), Length(max=500)])


class NotesForm(FlaskForm):
    version = _version()
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])


class ReplicationForm(FlaskForm):
    version = _version()
    last_replicated_at = InstantField("Last replicated transaction", validators=[InputRequired()],
                                      description="Time of the last transaction the standby held at failover")


class EvidenceForm(FlaskForm):
    label = StringField("Label", validators=[Optional(), Length(max=200)])
    file = FileField("File", description="png, jpg, gif, pdf, txt, log, csv or json")
    url = StringField("or a link", validators=[Optional(), Length(max=1000)], description="https://...")


class LinkForm(FlaskForm):
    """The API's evidence form: links only (files are uploaded through the page)."""
    label = StringField("Label", validators=[Optional(), Length(max=200)])
    url = StringField("Link", validators=[DataRequired(), Length(max=1000)])


class FindingForm(PeopleChoicesForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    severity = SelectField("Severity", choices=SEVERITY_CHOICES, default="medium", validators=[DataRequired()])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    owner_id = SelectField("Owner", coerce=optional_int, choices=[NONE_CHOICE], validate_choice=False)
    due_date = DateField("Due date", validators=[Optional()], description="YYYY-MM-DD")
    step_id = IntegerField("Step id", validators=[Optional()], widget=HiddenField.widget)


class FindingStatusForm(FlaskForm):
    status = SelectField("Status", choices=STATUS_CHOICES, validators=[DataRequired()])


class EscalateForm(FlaskForm):
    to = SelectField("Turn into", choices=[SelectChoice("risk", "Risk"), SelectChoice("action", "Mitigation action")],
                     validators=[DataRequired()])
    risk_id = IntegerField("On risk", validators=[Optional()],
                           description="for an action: the open risk in the register that it mitigates")
