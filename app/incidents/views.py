"""Incident pages: the list with its figures, declaring, one incident with everything about it, the short link,
the Markdown export and the printable timeline. The actions on an incident are in work_views.py."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.access import allow, can
from app.alerting.models import Alert
from app.auth.roles import EDITORS, EVERYONE
from app.calendar.services import fiscal_start_month, quarter_for
from app.errors import DomainError
from app.extensions import db
from app.incidents import export, links, metrics, queries, services, subscriptions, tasks, updates
from app.incidents.forms import (ActionForm, AttachAlertForm, DeclarePageForm, FilterForm, InstantForm, LinkPageForm,
                                 NoteForm, PreferenceForm, ResolveForm, RoleForm, RunbookForm, SeverityForm, TaskForm,
                                 UpdateForm)
from app.incidents.models import Incident
from app.incidents.review_models import Review
from app.incidents.severities import list_severities
from app.incidents.timeline import storable_id, timeline_page, timeline_query
from app.readiness.checklist import parse_quarter
from app.timeutil import utcnow, wall_clock_to_utc
from app.views_common import apply_domain_error, keyset_args

bp = Blueprint("incidents", __name__)
PRINT_EVENTS_PER_PAGE = 40


def viewer_instant(value: datetime | None) -> datetime | None:
    """A time typed on a page: without an offset it is the viewer's wall-clock time (the on-call DST rule)."""
    if value is None or value.tzinfo is not None:
        return value
    return wall_clock_to_utc(value.date(), value.time(), current_user.time_zone)


def _quarter_arg():
    return parse_quarter(request.args.get("quarter"), fiscal_start_month())


@bp.route("/incidents")
@allow(EVERYONE)
def index():
    form = FilterForm(formdata=request.args)
    filters = {"status": form.status.data or None, "severity": form.severity.data or None} if form.validate() else {}
    try:
        quarter = _quarter_arg()
    except DomainError as error:
        form.quarter.errors = [error.message]
        quarter = None
    after, before, per_page = keyset_args()
    listing = queries.incidents_page(**filters, quarter=quarter, after=after, before=before, per_page=per_page)
    shown_quarter = quarter or quarter_for(utcnow().date())
    args = {name: value for name, value in {**filters, "quarter": request.args.get("quarter") if quarter else None}
            .items() if value}
    pager_args = {**args, **({"per_page": per_page} if "per_page" in request.args else {})}
    now = utcnow()
    return render_template(
        "incidents/index.html", form=form, incidents=listing, args=args, pager_args=pager_args, now=now,
        overdue={incident.id: updates.overdue_minutes(incident, now) for incident in listing.items},
        last=queries.last_updates(listing.items), figures=metrics.figures(shown_quarter),
        overall=metrics.figures(None), minutes=metrics.minutes, may_declare=can(services.WORKERS),
        preference=PreferenceForm(obj=subscriptions.preference_of(current_user)),
        severities=list_severities()), 422 if form.errors else 200


def _prefill(form: DeclarePageForm) -> str | None:
    """Fill the declare form from ?alert_id=, ?job_id= or ?risk_id=; returns what it was declared from."""
    alert_id = request.args.get("alert_id", type=int)
    job_id = request.args.get("job_id", type=int)
    risk_id = request.args.get("risk_id", type=int)
    alert = db.session.get(Alert, alert_id) if storable_id(alert_id) else None
    if alert is not None:
        form.alert_id.data, form.title.data, form.summary.data = alert.id, alert.summary, alert.details
        target = links.job_of_alert(alert)
        form.job_id.data = target.id if target else None
        form.severity.data = "SEV2" if alert.severity == "critical" else "SEV3"
        return f"alert #{alert.id}: {alert.summary}" + (f" (job {target.label})" if target else "")
    for kind, ident in (("job", job_id), ("risk", risk_id)):
        if ident:
            try:
                target = links.checked_target(kind, ident)
            except DomainError:
                continue
            getattr(form, f"{kind}_id").data = target.id
            form.title.data = f"{target.label} failing" if kind == "job" else f"Risk materialised: {target.label}"
            return f"{links.KIND_LABELS[kind].lower()} {target.label}"
    return None


@bp.route("/incidents/declare", methods=["GET", "POST"])
@allow(services.WORKERS)
def declare():
    form = DeclarePageForm()
    source = None
    if request.method == "GET":
        form.commander_id.data = current_user.id
        source = _prefill(form)
    elif form.validate_on_submit():
        try:
            incident = services.declare(
                title=form.title.data, severity=form.severity.data, summary=form.summary.data or "",
                commander_id=form.commander_id.data, declared_by=current_user, alert_id=form.alert_id.data,
                job_id=form.job_id.data, risk_id=form.risk_id.data, started_at=viewer_instant(form.started_at.data),
                detected_at=viewer_instant(form.detected_at.data))
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            paged = "" if incident.commander_id == current_user.id else f" {incident.commander.name} is being paged."
            flash(f"{incident.code} declared ({incident.severity.code}).{paged}", "success")
            return redirect(url_for("incidents.incident", incident_id=incident.id))
    return render_template("incidents/declare.html", form=form, source=source,
                           severities=list_severities()), 422 if form.errors else 200


def _link_form(blank: bool = True) -> LinkPageForm:
    """The link picker over every kind; `blank` for the page, else read from the posted form."""
    form = LinkPageForm(formdata=None) if blank else LinkPageForm()
    form.set_choices({kind: links.choices(kind) for kind in links.TARGETS}, links.KIND_LABELS)
    return form


def unique_ids(forms: dict) -> dict:
    """Several forms on one page share field names (status, reason, title): give each field its own HTML id,
    so every label points at its own input. The names posted stay the same."""
    for key, form in forms.items():
        prefix = key.removesuffix("_form")
        for name, field in form._fields.items():
            field.id = field.label.field_id = f"{prefix}-{name}"
    return forms


def render_incident(incident: Incident, *, status: int = 200, **failed):
    """The incident page; `failed` holds a form that did not validate (shown with its errors)."""
    after, before, per_page = keyset_args()
    now = utcnow()
    recent = updates.updates_of(incident, limit=20)
    forms = {"update_form": UpdateForm(formdata=None, status=incident.status if incident.is_open else None),
             "note_form": NoteForm(formdata=None), "resolve_form": ResolveForm(formdata=None),
             "severity_form": SeverityForm(formdata=None, severity=incident.severity.code),
             "role_form": RoleForm(formdata=None), "instant_form": InstantForm(formdata=None),
             "attach_form": AttachAlertForm(formdata=None), "link_form": _link_form(),
             "runbook_form": RunbookForm(formdata=None), "task_form": TaskForm(formdata=None),
             "action_form": ActionForm(), **failed}
    unique_ids(forms)
    return render_template(
        "incidents/incident.html", incident=incident, now=now, due_at=updates.update_due_at(incident),
        overdue=updates.overdue_minutes(incident, now), updates=recent, deliveries=updates.delivery_counts(recent),
        events=timeline_page(incident, after=after, before=before, per_page=per_page),
        events_args={"incident_id": incident.id, **({"per_page": per_page} if "per_page" in request.args else {})},
        alerts=queries.alerts_of(incident), links=links.links_of(incident), link_url=links.link_url,
        runbooks=links.runbooks_of(incident), runbook_url=links.runbook_url, tasks=tasks.tasks_of(incident),
        suggested_runbooks=links.suggested_runbooks(incident),
        subscribers=subscriptions.subscriber_count(incident),
        subscribed=subscriptions.is_subscribed(incident, current_user),
        review=db.session.scalar(select(Review).where(Review.incident_id == incident.id)),
        messages=updates.messages_of(incident, limit=50), may_work=can(services.WORKERS), may_close=can(EDITORS),
        minutes=metrics.minutes, **forms), status


@bp.route("/incidents/<int:incident_id>")
@allow(EVERYONE)
def incident(incident_id: int):
    return render_incident(services.get_incident(incident_id))


@bp.route("/i/<int:incident_id>")
@allow(EVERYONE)
def short_link(incident_id: int):
    """The short link in an SMS: every character counts in one segment."""
    return redirect(url_for("incidents.incident", incident_id=incident_id))


@bp.route("/incidents/<int:incident_id>/timeline.md")
@allow(EVERYONE)
def timeline_markdown(incident_id: int):
    incident = services.get_incident(incident_id)
    return Response(export.markdown(incident), mimetype="text/markdown",
                    headers={"Content-Disposition": f'attachment; filename="{incident.code}-timeline.md"'})


@bp.route("/incidents/<int:incident_id>/print")
@allow(EVERYONE)
def printable(incident_id: int):
    """The timeline on A4: one clean page per 40 events, no navigation."""
    incident = services.get_incident(incident_id)
    events = list(db.session.scalars(timeline_query(incident)))
    pages = [events[start:start + PRINT_EVENTS_PER_PAGE] for start in range(0, len(events), PRINT_EVENTS_PER_PAGE)]
    return render_template("incidents/print.html", incident=incident, pages=pages or [[]],
                           facts=export.facts(incident), printed_at=utcnow())

