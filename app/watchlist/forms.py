"""Forms of the watch list; the API validates its JSON with the same classes."""
from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (BooleanField, SelectField, StringField, TextAreaField,
                     TimeField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.auth.models import User
from app.extensions import db
from app.forms_common import InstantField, IntegerField, optional_int, zone_field
from app.oncall.models import EscalationPolicy
from app.watchlist.models import CRITICALITIES, WatchedApp
from app.watchlist.services import MAX_MINUTES, NAME_MAX

CRITICALITY_CHOICES = [SelectChoice(value, value.title()) for value in CRITICALITIES]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _none() -> list[SelectChoice]:
    return [SelectChoice("", "— none —")]


class _ChoicesForm(FlaskForm):
    """Fills the owner, app and policy selects with what exists now."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "owner_id" in self._fields:
            people = db.session.execute(select(User.id, User.name).where(User.active.is_(True)).order_by(User.name))
            self.owner_id.choices = _none() + [SelectChoice(uid, name) for uid, name in people]
        if "app_id" in self._fields:
            apps = db.session.execute(select(WatchedApp.id, WatchedApp.name).order_by(WatchedApp.name))
            self.app_id.choices = _none() + [SelectChoice(aid, name) for aid, name in apps]
        if "escalation_policy_id" in self._fields:
            policies = db.session.execute(select(EscalationPolicy.id, EscalationPolicy.name)
                                          .order_by(EscalationPolicy.name))
            self.escalation_policy_id.choices = _none() + [SelectChoice(pid, name) for pid, name in policies]


def _select(label: str, description: str) -> SelectField:
    return SelectField(label, coerce=optional_int, choices=_none(), validate_choice=True, description=description)


class AppForm(_ChoicesForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=NAME_MAX)], description="e.g. ERP")
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    owner_id = _select("Owner", "id of the person who owns the app")
    criticality = SelectField("Criticality", choices=CRITICALITY_CHOICES, default="high")
    rto_minutes = IntegerField("RTO (minutes)", validators=[Optional(), NumberRange(0, MAX_MINUTES)],
                               description="recovery time objective: how long it may be down")
    rpo_minutes = IntegerField("RPO (minutes)", validators=[Optional(), NumberRange(0, MAX_MINUTES)],
                               description="recovery point objective: how much data it may lose")
    runbook_url = StringField("Runbook link", validators=[Optional(), Length(max=500)],
                              description="https://… or /runbooks/…")


class JobForm(_ChoicesForm):
    app_id = _select("App", "id of the app this job belongs to")
    name = StringField("Name", validators=[DataRequired(), Length(max=NAME_MAX)],
                       description="e.g. Revenue recognition")
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    owner_id = _select("Owner", "id of the person who owns the job")
    criticality = SelectField("Criticality", choices=CRITICALITY_CHOICES, default="high",
                              description="also the severity of its alerts")
    escalation_policy_id = _select("Escalation policy", "id of the policy paged when the job goes down")
    schedule_kind = SelectField("Schedule", choices=[SelectChoice("interval", "Every N minutes"), SelectChoice("cron", "Cron expression")],
                                default="interval")
    interval_minutes = IntegerField("Every (minutes)", validators=[Optional(), NumberRange(1, MAX_MINUTES)],
                                    description="for an interval schedule: 60 = hourly, 1440 = daily")
    cron_expr = StringField("Cron expression", validators=[Optional(), Length(max=120)],
                            description="for a cron schedule, read in the job's time zone, e.g. 30 2 * * 1-5")
    time_zone = zone_field("Time zone")
    grace_minutes = IntegerField("Grace (minutes)", default=15, validators=[Optional(), NumberRange(0, MAX_MINUTES)],
                                 description="how long after the expected time the job may still report before "
                                             "it is down")
    max_duration_minutes = IntegerField("Maximum duration (minutes)", default=60,
                                        validators=[Optional(), NumberRange(1, MAX_MINUTES)],
                                        description="a run that has not ended by then is too slow")
    min_duration_minutes = IntegerField("Minimum duration (minutes)",
                                        validators=[Optional(), NumberRange(0, MAX_MINUTES)],
                                        description="optional: a run that ends sooner is flagged")
    failures_before_paging = IntegerField("Failures before paging", default=1,
                                          validators=[Optional(), NumberRange(1, 20)],
                                          description="consecutive failed runs before it is down and pages (1–20)")


class WindowForm(FlaskForm):
    kind = SelectField("Kind", choices=[SelectChoice("weekly", "Every week"), SelectChoice("once", "Once"),
                                        SelectChoice("freeze", "Every close (business days around BD0)")],
                       default="weekly")
    time_zone = zone_field("Time zone")
    weekday = SelectField("Day", coerce=optional_int, validate_choice=True,
                          choices=_none() + [SelectChoice(i, day) for i, day in enumerate(WEEKDAYS)],
                          description="weekly: 0 = Monday … 6 = Sunday")
    start_time = TimeField("From", validators=[Optional()], description="weekly: local time")
    end_time = TimeField("To", validators=[Optional()], description="weekly: local time; at or before From = next day")
    starts_at = InstantField("Starts", validators=[Optional()], description="once")
    ends_at = InstantField("Ends", validators=[Optional()], description="once")
    bd_start = IntegerField("From business day", validators=[Optional(), NumberRange(-60, 60)],
                            description="every close: offset from BD0, e.g. -2 for BD-2 (close region's days)")
    bd_end = IntegerField("To business day", validators=[Optional(), NumberRange(-60, 60)],
                          description="every close: e.g. 3 for BD+3, inclusive")
    note = StringField("Note", validators=[Optional(), Length(max=200)], description="e.g. ERP patching")


class ImportForm(FlaskForm):
    csv_text = TextAreaField("CSV", validators=[DataRequired(), Length(max=1_000_000)], render_kw={"rows": 12},
                             description="the columns of the export; a job is matched by app and name")
    confirm = BooleanField("Apply these changes")
