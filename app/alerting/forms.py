"""Alert forms: raising an alert (API), paging someone now (page), acting on an alert, filtering the list."""
from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.alerting.actions import STATUS_FILTERS
from app.alerting.models import SEVERITIES
from app.alerting.services import DEDUP_MAX, DETAILS_MAX, SUMMARY_MAX
from app.auth.models import User
from app.extensions import db
from app.oncall.models import ContactMethod, EscalationPolicy, NotificationRule
from app.forms_common import IntegerField

NOTE_MAX = 300
SEVERITY_CHOICES = [SelectChoice(value, value.title()) for value in SEVERITIES]


def _summary_field() -> StringField:
    return StringField("Summary", validators=[DataRequired(), Length(max=SUMMARY_MAX)],
                       description="What is wrong, in a few words: it is the first line of every SMS")


def _details_field() -> TextAreaField:
    return TextAreaField("Details", validators=[Optional(), Length(max=DETAILS_MAX)], render_kw={"rows": 4},
                         description="What is known, what to look at; sent by email and shown on the alert")


def _severity_field() -> SelectField:
    return SelectField("Severity", choices=SEVERITY_CHOICES, default="critical", validate_choice=True,
                       description="critical, high, medium or low")


class RaiseAlertForm(FlaskForm):
    """The body of POST /api/v1/alerts."""

    summary = _summary_field()
    details = _details_field()
    severity = _severity_field()
    dedup_key = StringField("Dedup key", validators=[Optional(), Length(max=DEDUP_MAX)],
                            description="an alert with the same key as an open one adds to it instead of paging again")
    escalation_policy_id = IntegerField("Escalation policy", validators=[Optional()],
                                        description="id of the escalation policy that pages; without one nobody is "
                                                    "paged and the alert is only listed")


class PageNowForm(FlaskForm):
    """Page someone now: a manual alert to one escalation policy or one person."""

    summary = _summary_field()
    details = _details_field()
    severity = _severity_field()
    target = SelectField("Page", coerce=str, validators=[DataRequired(message="Choose a policy or a person.")],
                         validate_choice=True,
                         description="A policy runs its steps (and its on-call schedules); a person is paged "
                                     "through their own notification rules")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        policies = db.session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.name))
        people = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
        reachable = set(db.session.scalars(
            select(NotificationRule.user_id).join(NotificationRule.method)
            .where(ContactMethod.verified_at.is_not(None), ContactMethod.disabled_at.is_(None))))
        self.target.choices = [SelectChoice("", "— choose —")] + \
            [SelectChoice(f"policy:{p.id}", p.name, optgroup="Escalation policies") for p in policies] + \
            [SelectChoice(f"user:{u.id}", f"{u.name} ({u.email})" + ("" if u.id in reachable else
                          " – no usable notification rule: cannot be reached"), optgroup="People") for u in people]

    def target_ids(self) -> dict[str, int | None]:
        """{"escalation_policy_id": .., "user_id": ..}: one of them set, from the chosen option."""
        kind, _, ident = (self.target.data or "").partition(":")
        return {"escalation_policy_id": int(ident) if kind == "policy" else None,
                "user_id": int(ident) if kind == "user" else None}


class ResolveForm(FlaskForm):
    """Resolving an alert (page and API): an optional note goes on the timeline."""

    note = TextAreaField("Note", validators=[Optional(), Length(max=NOTE_MAX)], render_kw={"rows": 2},
                         description="optional: what fixed it, for the timeline")


class ActionForm(FlaskForm):
    """Acknowledge and escalate take no input: the form carries the CSRF token."""


class AlertFilterForm(FlaskForm):
    """The list's filters, read from the query string."""

    class Meta:
        csrf = False

    status = SelectField("Status", choices=[SelectChoice("", "Any")] + [
        SelectChoice(value, value.title()) for value in STATUS_FILTERS], default="", validate_choice=True)
    severity = SelectField("Severity", choices=[SelectChoice("", "Any")] + SEVERITY_CHOICES, default="",
                           validate_choice=True)
