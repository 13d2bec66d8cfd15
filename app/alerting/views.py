"""Alert pages (list, one alert with its timeline and messages, acknowledge / resolve / escalate, page someone
now), test messages to a person's contact methods, and the Messages page (what Quarterdeck sent you)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import allow, can
from app.alerting import actions, services
from app.alerting.channels import email_enabled, twilio_enabled, voice_enabled
from app.alerting.forms import ActionForm, AlertFilterForm, PageNowForm, ResolveForm
from app.alerting.hooks import alert_badges
from app.alerting.models import Alert, AlertStatus
from app.auth.roles import EDITORS, EVERYONE
from app.errors import DomainError
from app.providers import provided
from app.views_common import apply_domain_error, keyset_args, kept_args
from app.web import localtime

bp = Blueprint("alerting", __name__)


def channel_notices() -> list[str]:
    """Plain words for each provider that is not configured, so nobody expects a phone to ring."""
    config, notices = current_app.config, []
    if not twilio_enabled(config):
        notices.append("Twilio is not configured: SMS and voice go to the console (see Messages).")
    elif not voice_enabled(config):
        notices.append("Twilio has no caller number (TWILIO_FROM_NUMBER): voice calls go to the console "
                       "(see Messages).")
    if not email_enabled(config):
        notices.append("Email is not configured (SMTP_URL): email goes to the console (see Messages).")
    return notices


@bp.route("/messages")
@allow(EVERYONE)
def messages():
    after, before, per_page = keyset_args()
    return render_template("alerting/messages.html", notices=channel_notices(),
                           messages=actions.messages_to_page(current_user.id, after=after, before=before,
                                                             per_page=per_page),
                           pager_args={"per_page": per_page} if "per_page" in request.args else {})


@bp.route("/alerts")
@allow(EVERYONE)
def alerts():
    form = AlertFilterForm(formdata=request.args)
    # A bad filter is shown next to its input (422) and the whole list is shown meanwhile.
    filters = {"status": form.status.data, "severity": form.severity.data} if form.validate() else {}
    after, before, per_page = keyset_args()
    alerts_page = actions.alerts_page(**filters, after=after, before=before, per_page=per_page)
    args = {name: value for name, value in filters.items() if value}
    if "per_page" in request.args:
        args["per_page"] = per_page  # the pager keeps the page size too
    return render_template("alerting/alerts.html", form=form, alerts=alerts_page, args=args,
                           badges=alert_badges(alert.id for alert in alerts_page.items),
                           open_count=actions.open_alert_count(), may_page=can(EDITORS)), 422 if form.errors else 200


def _render_alert(alert: Alert, resolve_form: ResolveForm | None = None, status: int = 200):
    # Two lists, each with its own cursors; each pager keeps the other's place and the page size.
    after, before, per_page = keyset_args()
    messages_after, messages_before, _ = keyset_args("messages_")
    base = {"alert_id": alert.id, **({"per_page": per_page} if "per_page" in request.args else {})}
    return render_template(
        "alerting/alert.html", alert=alert, position=actions.escalation_position(alert),
        badges=alert_badges([alert.id]).get(alert.id, []),
        events=actions.timeline_page(alert, after=after, before=before, per_page=per_page),
        sent=actions.messages_page(alert, after=messages_after, before=messages_before, per_page=per_page),
        events_args={**base, **kept_args("messages_after", "messages_before")},
        sent_args={**base, **kept_args("after", "before")},
        related=provided("alert_links", alert), may_act=can(actions.ACTORS), action_form=ActionForm(), resolve_form=resolve_form or ResolveForm(formdata=None),
        notices=channel_notices()), status


@bp.route("/alerts/<int:alert_id>")
@allow(EVERYONE)
def alert(alert_id: int):
    return _render_alert(services.get_alert(alert_id))


@bp.route("/a/<int:alert_id>")
@allow(EVERYONE)
def short_link(alert_id: int):
    """The short link in a page's SMS: every character counts in one segment."""
    return redirect(url_for("alerting.alert", alert_id=alert_id))


def _when(value) -> str:
    return localtime(value, "%H:%M %Z") if value else "an unknown time"


def _unchanged(alert: Alert, action: str) -> str:
    """Why an action did nothing, in the viewer's time zone."""
    if alert.status == AlertStatus.RESOLVED.value:
        return f"Alert #{alert.id} was already resolved by {alert.resolved_by} at {_when(alert.resolved_at)}."
    if action == "acknowledge":
        return f"Alert #{alert.id} was already acknowledged by {alert.acknowledged_by} " \
               f"at {_when(alert.acknowledged_at)}."
    return f"Alert #{alert.id} did not change."


def _act(alert_id: int, action: str, done: str, **kwargs):
    """Run one of the services' actions on the alert as the signed-in person, then show the alert again."""
    function = {"acknowledge": services.acknowledge, "resolve": services.resolve, "escalate": services.escalate}[action]
    try:
        alert, changed = services.act_and_commit(
            alert_id, lambda a: function(a, actor=current_user.name, via="web", **kwargs))
    except DomainError as error:
        flash(error.message, "error")
    else:
        if changed:
            flash(done.format(id=alert.id), "success")
        else:
            flash(_unchanged(alert, action), "info")
    return redirect(url_for("alerting.alert", alert_id=alert_id))


@bp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@allow(actions.ACTORS)
def acknowledge(alert_id: int):
    services.get_alert(alert_id)
    if not ActionForm().validate_on_submit():
        flash("The form expired. Try again.", "error")
        return redirect(url_for("alerting.alert", alert_id=alert_id))
    return _act(alert_id, "acknowledge", "Acknowledged alert #{id}: escalation stopped.")


@bp.route("/alerts/<int:alert_id>/resolve", methods=["POST"])
@allow(actions.ACTORS)
def resolve(alert_id: int):
    alert = services.get_alert(alert_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        return _render_alert(alert, resolve_form=form, status=422)
    return _act(alert_id, "resolve", "Resolved alert #{id}.", note=(form.note.data or "").strip())


@bp.route("/alerts/<int:alert_id>/escalate", methods=["POST"])
@allow(actions.ACTORS)
def escalate(alert_id: int):
    services.get_alert(alert_id)
    if not ActionForm().validate_on_submit():
        flash("The form expired. Try again.", "error")
        return redirect(url_for("alerting.alert", alert_id=alert_id))
    return _act(alert_id, "escalate", "Escalated alert #{id}: the next step is paged on the engine's next tick.")


@bp.route("/alerts/page", methods=["GET", "POST"])
@allow(EDITORS)
def page_now():
    form = PageNowForm()
    if form.validate_on_submit():
        try:
            alert = actions.page_now(summary=form.summary.data, details=form.details.data or "",
                                     severity=form.severity.data, created_by=current_user, **form.target_ids())
        except DomainError as error:
            field = "target" if error.field in ("user_id", "escalation_policy_id") else error.field
            apply_domain_error(form, DomainError(error.message, field))
        else:
            flash(f"Alert #{alert.id} raised ({alert.policy_snapshot['name']}): the first messages go out "
                  "within a few seconds.", "success")
            return redirect(url_for("alerting.alert", alert_id=alert.id))
    status = 422 if request.method == "POST" else 200
    return render_template("alerting/page_now.html", form=form, notices=channel_notices()), status


@bp.route("/oncall/people/<int:user_id>/test-messages", methods=["POST"])
@allow(EVERYONE)
def test_methods(user_id: int):
    person = actions.get_person(user_id)
    actions.ensure_can_test_methods(current_user, person)  # before the form: someone else's person is a 403
    if not ActionForm().validate_on_submit():
        flash("The form expired. Try again.", "error")
        return redirect(url_for("oncall.person", user_id=person.id))
    try:
        queued = actions.queue_test_messages(actor=current_user, person=person)
    except DomainError as error:
        flash(error.message, "error")
    else:
        where = "See Messages." if person.id == current_user.id else f"{person.name} sees them under Messages."
        flash(f"Queued {len(queued)} test message{'s' if len(queued) != 1 else ''}; "
              f"they go out within a few seconds. {where}", "success")
    return redirect(url_for("oncall.person", user_id=person.id))
