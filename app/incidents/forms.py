"""Incident forms; the API validates its JSON with the same classes (the page variants only swap an id for a
picker). Times: on the pages they are read in the viewer's zone; the API wants an offset."""
from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.auth.models import User
from app.extensions import db
from app.forms_common import optional_int
from app.incidents.models import INSTANTS, LINK_KINDS, OPEN_STATUS_VALUES, ROLES, TaskStatus
from app.incidents.review_models import FollowUpKind
from app.incidents.severities import CODES
from app.incidents.services import WORKERS
from app.oncall.schedule_forms import InstantField
from app.risks.models import RiskCategory

SEVERITY_CHOICES = [SelectChoice(code, code) for code in CODES]
UPDATE_STATUS_CHOICES = [SelectChoice(status, status.capitalize()) for status in OPEN_STATUS_VALUES]
TIME_HELP = "date and time, e.g. 2026-11-23T14:05 (your time zone on the page; with an offset in the API)"


def people_choices(blank: str | None = None, *, workers_only: bool = False) -> list[SelectChoice]:
    query = select(User.id, User.name).where(User.active.is_(True)).order_by(User.name)
    if workers_only:
        query = query.where(User.role.in_(list(WORKERS)))
    rows = db.session.execute(query).all()
    return ([SelectChoice("", blank)] if blank is not None else []) + [SelectChoice(uid, name) for uid, name in rows]


def _severity_field() -> SelectField:
    return SelectField("Severity", choices=SEVERITY_CHOICES, default="SEV3", validate_choice=True,
                       description="SEV1 (worst) to SEV4")


class DeclareForm(FlaskForm):
    """The body of POST /api/v1/incidents."""

    title = StringField("Title", validators=[DataRequired(), Length(max=200)],
                        description="What is wrong, in a few words")
    severity = _severity_field()
    summary = TextAreaField("Summary", validators=[Optional(), Length(max=10_000)], render_kw={"rows": 3},
                            description="What is known so far")
    commander_id = IntegerField("Commander", validators=[Optional()],
                                description="id of the incident commander; default: whoever declares it")
    alert_id = IntegerField("Alert", validators=[Optional()], description="id of the alert it is declared from")
    job_id = IntegerField("Watched job", validators=[Optional()], description="id of the watched job it is about")
    risk_id = IntegerField("Risk", validators=[Optional()], description="id of the risk that materialised")
    started_at = InstantField("Started", validators=[Optional()], description="when it really began, if earlier; "
                              + TIME_HELP)
    detected_at = InstantField("Detected", validators=[Optional()],
                               description="default: the alert's time, or now; " + TIME_HELP)


class DeclarePageForm(DeclareForm):
    commander_id = SelectField("Commander", coerce=optional_int, validate_choice=True,
                               description="Leads the incident; paged at once unless it is you")
    started_at = InstantField("Started (optional)", validators=[Optional()], render_kw={"type": "datetime-local"},
                              description="when it really began, if before it was detected")
    detected_at = InstantField("Detected (optional)", validators=[Optional()], render_kw={"type": "datetime-local"},
                               description="default: the alert's time, or now")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.commander_id.choices = people_choices(workers_only=True)


class UpdateForm(FlaskForm):
    status = SelectField("Status", choices=UPDATE_STATUS_CHOICES, validate_choice=True,
                         description="investigating, identified or monitoring")
    message = TextAreaField("Update", validators=[DataRequired(), Length(max=4000)], render_kw={"rows": 3},
                            description="Sent to every subscriber: what is known, what is being done, what next")


class NoteForm(FlaskForm):
    text = TextAreaField("Note", validators=[DataRequired(), Length(max=4000)], render_kw={"rows": 2})
    happened_at = InstantField("Happened at (optional)", validators=[Optional()],
                               render_kw={"type": "datetime-local"},
                               description="for something learned after the fact; " + TIME_HELP)


class ResolveForm(FlaskForm):
    resolution = TextAreaField("Resolution", validators=[DataRequired(), Length(max=10_000)], render_kw={"rows": 3},
                               description="What fixed it; sent to the subscribers as the last update")


class SeverityForm(FlaskForm):
    severity = _severity_field()
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(key, label) for key, label in ROLES.items()],
                       validate_choice=True)
    user_id = SelectField("Person", coerce=optional_int, validate_choice=True,
                          description="the commander must be a responder, on the crisis team or an admin")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_id.choices = people_choices("— nobody —")


class InstantForm(FlaskForm):
    name = SelectField("Instant", choices=[SelectChoice(key, label) for key, label in INSTANTS.items()],
                       validate_choice=True)
    value = InstantField("New time", validators=[Optional()], render_kw={"type": "datetime-local"},
                         description="empty clears started, acknowledged or mitigated")
    reason = StringField("Reason", validators=[DataRequired(), Length(max=500)],
                         description="kept on the timeline with the change")


class AttachAlertForm(FlaskForm):
    alert_id = IntegerField("Alert number", validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)])


class LinkForm(FlaskForm):
    """The API's link: a kind and an id."""

    kind = SelectField("Kind", choices=[SelectChoice(kind, kind) for kind in LINK_KINDS], validate_choice=True)
    target_id = IntegerField("Id", validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)])


class LinkPageForm(FlaskForm):
    """The page's link: one picker over every kind ("job:12")."""

    target = SelectField("Touches", coerce=str, validators=[DataRequired(message="Choose something.")],
                         validate_choice=True)

    def set_choices(self, groups: dict[str, list[tuple[int, str]]], labels: dict[str, str]) -> None:
        self.target.choices = [SelectChoice("", "— choose —")] + [
            SelectChoice(f"{kind}:{ident}", name, optgroup=labels[kind])
            for kind, rows in groups.items() for ident, name in rows]

    def kind_and_id(self) -> tuple[str, int | None]:
        kind, _, ident = (self.target.data or "").partition(":")
        return kind, int(ident) if ident.isdigit() else None


class RunbookForm(FlaskForm):
    runbook_slug = StringField("Runbook", validators=[DataRequired(), Length(max=200)],
                               description="its slug in the runbook catalog, e.g. erp-failover-failback")
    outcome = StringField("Outcome", validators=[Optional(), Length(max=300)],
                          description="optional: how using it went")


class TaskForm(FlaskForm):
    title = StringField("Task", validators=[DataRequired(), Length(max=200)])
    owner_id = SelectField("Owner", coerce=optional_int, validate_choice=True)
    due_at = InstantField("Due (optional)", validators=[Optional()], render_kw={"type": "datetime-local"},
                          description=TIME_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = people_choices("— choose —")


class TaskApiForm(FlaskForm):
    """The body of POST /api/v1/incidents/{id}/tasks."""

    title = StringField("Task", validators=[DataRequired(), Length(max=200)])
    owner_id = IntegerField("Owner", validators=[DataRequired()], description="id of an active person")
    due_at = InstantField("Due", validators=[Optional()], description="ISO 8601 with an offset")


class TaskStatusForm(FlaskForm):
    status = SelectField("Status", choices=[SelectChoice(s.value, s.value) for s in TaskStatus], validate_choice=True)


class ActionForm(FlaskForm):
    """Subscribe, unsubscribe, close: no input, the form carries the CSRF token."""


class PreferenceForm(FlaskForm):
    sms_for_sev1 = BooleanField("Text me SEV1 updates (instead of email)",
                                description="needs a verified SMS number; other severities always come by email")


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField("Status", choices=[SelectChoice("", "Any"), SelectChoice("open", "Open")]
                         + [SelectChoice(s, s.capitalize()) for s in ("investigating", "identified", "monitoring",
                                                                       "resolved", "closed")],
                         default="", validate_choice=True)
    severity = SelectField("Severity", choices=[SelectChoice("", "Any")] + SEVERITY_CHOICES, default="",
                           validate_choice=True)
    quarter = StringField("Quarter", validators=[Optional(), Length(max=12)], description="e.g. FY27-Q4")


# --- the review ------------------------------------------------------------------------------------------------

def _text(label: str, description: str = "") -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=10_000)], render_kw={"rows": 3},
                         description=description)


class ReviewForm(FlaskForm):
    what_happened = _text("What happened", "required to complete the review")
    business_impact = _text("Business impact", "e.g. bookings delayed 3 hours; orders held")
    root_cause = _text("Root cause", "required to complete the review")
    went_well = _text("What went well")
    went_badly = _text("What went badly")


class LessonDraftForm(FlaskForm):
    title = StringField("Lesson", validators=[DataRequired(), Length(max=200)])
    recommendation = TextAreaField("Recommendation", validators=[DataRequired(), Length(max=10_000)],
                                   render_kw={"rows": 2})
    owner_id = SelectField("Owner", coerce=optional_int, validate_choice=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = people_choices("— crisis team —")


class FollowUpForm(FlaskForm):
    kind = SelectField("Becomes", choices=[SelectChoice(FollowUpKind.RISK.value, "a risk in the register"),
                                           SelectChoice(FollowUpKind.CHECKLIST.value, "a checklist item")],
                       validate_choice=True)
    title = StringField("Follow-up", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Details", validators=[Optional(), Length(max=10_000)], render_kw={"rows": 2})
    owner_id = SelectField("Owner", coerce=optional_int, validate_choice=True)
    category = SelectField("Risk category", choices=[SelectChoice(c.value, c.label) for c in RiskCategory],
                           default=RiskCategory.OUTAGE.value, validate_choice=True)
    likelihood = IntegerField("Likelihood (1-5)", default=3, validators=[Optional(), NumberRange(min=1, max=5)])
    impact = IntegerField("Impact (1-5)", default=3, validators=[Optional(), NumberRange(min=1, max=5)])
    quarter = StringField("Checklist quarter", validators=[Optional(), Length(max=12)], description="e.g. FY27-Q4")
    bd_offset = IntegerField("Due at BD", default=-10, validators=[Optional(), NumberRange(min=-120, max=60)],
                             description="business days from that quarter's close, e.g. -10")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = people_choices("— choose —")


class WaiveForm(FlaskForm):
    reason = TextAreaField("Why is no review needed?", validators=[DataRequired(), Length(max=2000)],
                           render_kw={"rows": 2})


# --- settings --------------------------------------------------------------------------------------------------

class SeveritySettingsForm(FlaskForm):
    description = StringField("Description", validators=[DataRequired(), Length(max=300)])
    update_interval_minutes = IntegerField("Update every (minutes)", validators=[Optional(),
                                                                                NumberRange(min=5, max=1440)],
                                           description="empty: no update cadence")
    escalation_policy_id = SelectField("Page this escalation policy", coerce=optional_int, validate_choice=True,
                                       description="SEV1 and SEV2 only; empty: page only the commander")


class SettingsForm(FlaskForm):
    review_business_days = IntegerField("Review due after (business days)", default=5,
                                        validators=[DataRequired(), NumberRange(min=1, max=30)],
                                        description="counted in the commander's region, from the day it is resolved")
