"""Wiring the incidents domain into the ones below it, from create_app(): they never import it.

- alerting: the SMS reply `12i` declares an incident from alert 12 with the replier as commander; alerts that
  are part of an incident say so (page, list, API); acknowledging an incident's page reaches its timeline;
- runbooks: a run opened from an incident's page is recorded there (in use, then its outcome);
- readiness: the incidents track with its close-window gate, and the incidents section of the executive page;
- templates: `declare_incident_url(alert_id=..|job_id=..|risk_id=..)` for "Declare incident" links (None for
  someone who may not declare).
"""
from __future__ import annotations

from flask import Flask, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from app.alerting.channels.gsm import fit_one_segment
from app.alerting.hooks import register_alert_listener, register_badge_provider
from app.alerting.models import Alert
from app.alerting.replies import register_reply_action
from app.auth.models import User
from app.errors import DomainError
from app.extensions import db
from app.incidents import services
from app.incidents.models import Incident, IncidentAlert
from app.incidents.notify import fit_sms, short_url
from app.incidents.paging import on_alert_changed
from app.incidents.queries import badges_for_alerts
from app.incidents.readiness_track import TRACK, assess, executive_section, incidents_to_chase
from app.readiness.chase import register_chase_source
from app.readiness.providers import register_section, register_track
from app.runbooks.models import RunbookRun, RunOutcome
from app.runbooks.runs import add_run_listener

REPLY_WORDS = ("i", "inc", "incident")
# An incident declared by SMS starts at this severity, from its alert's; the commander re-grades it on the page.
SEVERITY_OF_ALERT = {"critical": "SEV2", "high": "SEV3", "medium": "SEV3", "low": "SEV4"}


def init_app(app: Flask) -> None:
    register_reply_action(app, "incident", declare_from_reply, words=REPLY_WORDS)
    register_badge_provider(app, badges_for_alerts)
    register_alert_listener(app, on_alert_changed)
    register_track(app, TRACK, assess)
    register_section(app, executive_section)
    register_chase_source(app, "incidents", "Incident reviews and follow-ups", incidents_to_chase, order=70)
    add_run_listener(runbook_run_to_timeline)
    app.jinja_env.globals["declare_incident_url"] = declare_incident_url


def runbook_run_to_timeline(run: RunbookRun) -> None:
    """A run of a runbook opened from an incident is a runbook in use there: started, then its outcome."""
    if not run.incident_id:
        return
    incident = db.session.get(Incident, run.incident_id)
    if incident is None:
        return
    outcome = (RunOutcome(run.outcome).label + (f": {run.note}" if run.note else "")) if run.outcome \
        else f"run #{run.id} started"
    services.record_runbook_use(incident, slug=run.runbook.slug, outcome=outcome, actor=run.started_by_name,
                                title=run.runbook.title)
    db.session.commit()


def declare_incident_url(**prefill) -> str | None:
    """The declare page prefilled from an alert, a job or a risk; None when the viewer may not declare."""
    if not current_user.is_authenticated or current_user.role not in services.WORKERS:
        return None
    return url_for("incidents.declare", **{name: value for name, value in prefill.items() if value is not None})


def _answer(template: str, **context) -> str:
    return fit_one_segment(render_template(f"messages/{template}.txt", **fit_sms(template, "text", **context)).strip())


def declare_from_reply(alert_id: int, person: User, phone: str, code: int) -> str:
    """`12i`: declare an incident from the alert with the replier as commander (committed), and say so."""
    if person.role not in services.WORKERS:
        return _answer("incident_sms_refused", code=code, text="only responders, the crisis team and "
                       "administrators declare incidents.")
    taken = db.session.scalar(select(IncidentAlert.incident_id).where(IncidentAlert.alert_id == alert_id))
    if taken is not None:
        incident = db.session.get(Incident, taken)
        return _answer("incident_sms_refused", code=code, text=f"alert {code} is already part of {incident.code} "
                       f"(commander {incident.commander.name}): {short_url(incident)}")
    alert = db.session.get(Alert, alert_id)
    for attempt in range(3):
        try:
            incident = services.declare(title=alert.summary, summary=alert.details,
                                        severity=SEVERITY_OF_ALERT.get(alert.severity, "SEV3"), declared_by=person,
                                        alert_id=alert_id)
            break
        except services.AlertMoved:  # the engine moved the alert on meanwhile: read it again and retry
            alert = db.session.get(Alert, alert_id, populate_existing=True)
            if attempt == 2:
                return _answer("incident_sms_refused", code=code, text="the alert kept changing; try again.")
        except DomainError as error:
            db.session.rollback()
            return _answer("incident_sms_refused", code=code, text=error.message)
    return _answer("incident_sms_declared", code=code, incident=incident, text=incident.title,
                   short_url=short_url(incident))
