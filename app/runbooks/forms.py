"""Runbook forms: a review, starting and finishing a run, marking a step, acknowledging, the admin's threshold.
The API validates its JSON with the same classes."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.runbooks.models import ReviewOutcome, RunOutcome, StepOutcome
from app.runbooks.reviews import NOTE_MAX

ID_RANGE = NumberRange(min=1, max=2**31 - 1, message="No such record.")


class ReviewForm(FlaskForm):
    outcome = RadioField("Outcome", choices=[SelectChoice(o.value, o.label) for o in ReviewOutcome],
                         validators=[InputRequired(message="Choose an outcome.")])
    note = TextAreaField("Note", validators=[Optional(), Length(max=NOTE_MAX)], render_kw={"rows": 3},
                         description="Needed when you request changes: what is wrong")


class AcknowledgeForm(FlaskForm):
    """Only the CSRF token: "I have read this version"."""


class StartRunForm(FlaskForm):
    alert_id = IntegerField("Alert", validators=[Optional(), ID_RANGE])
    job_id = IntegerField("Job", validators=[Optional(), ID_RANGE])
    incident_id = IntegerField("Incident", validators=[Optional(), ID_RANGE])


class StepForm(FlaskForm):
    outcome = SelectField("Step", choices=[SelectChoice(o.value, o.value) for o in StepOutcome],
                          validators=[InputRequired(message="Mark the step done, skipped or failed.")])


class FinishRunForm(FlaskForm):
    outcome = RadioField("How did it go?", choices=[SelectChoice(o.value, o.label) for o in RunOutcome],
                         validators=[InputRequired(message="Choose how it went.")])
    note = TextAreaField("What was wrong or different", validators=[Optional(), Length(max=NOTE_MAX)],
                         render_kw={"rows": 3},
                         description="Needed unless it worked as written: it is how the runbook gets fixed")


class RunApiForm(FinishRunForm, StartRunForm):
    """POST /api/v1/runbooks/{slug}/runs: a whole run at once (its steps are a list beside these fields)."""


class SettingsForm(FlaskForm):
    error_rate_percent = IntegerField("Needs review at an error rate of (%)", validators=[
        DataRequired(), NumberRange(min=1, max=100)], description="failed + with deviations, over the last four quarters")
    min_runs = IntegerField("... with at least this many runs", validators=[DataRequired(), NumberRange(min=1, max=1000)])
