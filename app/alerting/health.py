"""The paging engine watching itself: is the tick running, and does every triggered alert have a next action?

When it is not healthy, `/healthz` answers 503 and the self-check job raises a "paging engine unhealthy"
alert and tells the administrators through the console and email directly (not through the outbox,
which may be what is stuck). The warning is repeated at most every REPEAT minutes while it lasts.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select

from app.alerting import services, timeline
from app.alerting.channels import channel_for
from app.alerting.channels.base import ChannelError, Message
from app.alerting.channels.console import ConsoleChannel
from app.alerting.channels.email import email_enabled
from app.alerting.models import Alert, AlertStatus, MessageStatus, OutboundMessage
from app.auth.models import User
from app.auth.roles import Role
from app.extensions import db
from app.system.models import SchedulerHeartbeat
from app.timeutil import utcnow

log = logging.getLogger("quarterdeck.engine.health")
ENGINE_HEARTBEAT = "paging-engine"
UNHEALTHY_KEY = "system:paging-engine-unhealthy"
REPEAT = timedelta(minutes=30)


@dataclass(frozen=True)
class PagingHealth:
    engine_age_seconds: float | None
    max_age_seconds: int
    problems: list[str] = field(default_factory=list)
    unpaged_alerts: list[dict[str, object]] = field(default_factory=list)
    unanswered_alerts: list[int] = field(default_factory=list)
    oldest_due_seconds: float | None = None
    stuck_sending: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _successful_page_since():
    """A message that reached the provider for the alert (alone or inside a bundle that was sent)."""
    return select(OutboundMessage.id).where(
        OutboundMessage.alert_id == Alert.id,
        OutboundMessage.status.in_((MessageStatus.SENT.value, MessageStatus.DELIVERED.value,
                                    MessageStatus.BUNDLED.value)),
        OutboundMessage.created_at >= func.coalesce(Alert.escalation_started_at, Alert.created_at)).exists()


def unpaged_alerts(now) -> list[dict[str, object]]:
    """Triggered alerts nobody has been paged for: no policy (not even the fallback), or no message has reached
    the provider within HEALTH_UNPAGED_ALERT_SECONDS of its escalation starting."""
    grace = timedelta(seconds=int(current_app.config["HEALTH_UNPAGED_ALERT_SECONDS"]))
    # An alert raised with no policy while no fallback was set is exhausted at once with no policy id.
    no_policy = and_(Alert.policy_id.is_(None), Alert.escalation_exhausted.is_(True))
    rows = db.session.execute(select(Alert.id, Alert.summary, no_policy.label("no_policy"), Alert.created_at).where(
        Alert.status == AlertStatus.TRIGGERED.value,
        or_(Alert.dedup_key.is_(None), Alert.dedup_key != UNHEALTHY_KEY),  # the self-check's own alert says it
        or_(no_policy,
            and_(func.coalesce(Alert.escalation_started_at, Alert.created_at) < now - grace,
                 ~_successful_page_since())))
        .order_by(Alert.created_at).limit(50)).all()
    return [{"id": row.id, "summary": row.summary,
             "reason": "no escalation policy and no fallback policy" if row.no_policy
             else f"no message has reached anyone in {int(grace.total_seconds())} s",
             "since": row.created_at.isoformat()} for row in rows]


def paging_health() -> PagingHealth:
    """Read-only: the engine's last pass, alerts nobody is paged for, and messages stuck in the outbox."""
    now, max_age = utcnow(), int(current_app.config["ENGINE_MAX_TICK_AGE"])
    late = now - timedelta(seconds=max_age)
    problems = []
    beat = db.session.get(SchedulerHeartbeat, ENGINE_HEARTBEAT)
    age = None if beat is None else max((now - beat.beat_at).total_seconds(), 0.0)
    if age is None:
        problems.append("The paging engine has never run: is `flask scheduler run` running?")
    elif age > max_age:
        problems.append(f"The paging engine last ran {int(age)} s ago (limit {max_age} s).")
    stalled = db.session.scalar(select(func.count()).select_from(Alert).where(
        Alert.status == AlertStatus.TRIGGERED.value, Alert.escalation_exhausted.is_(False),
        or_(Alert.next_escalation_at.is_(None), Alert.next_escalation_at < late)))
    if stalled:
        problems.append(f"{stalled} triggered alert(s) have no next escalation step due.")
    unpaged = unpaged_alerts(now)
    if unpaged:
        problems.append(f"{len(unpaged)} triggered alert(s) have paged nobody: "
                        + ", ".join(f"#{row['id']} ({row['reason']})" for row in unpaged[:5]) + ".")
    oldest_due = db.session.scalar(select(func.min(OutboundMessage.due_at)).where(
        OutboundMessage.status == MessageStatus.PENDING.value, OutboundMessage.due_at <= now))
    oldest_seconds = None if oldest_due is None else (now - oldest_due).total_seconds()
    if oldest_seconds is not None and oldest_seconds > max_age:
        problems.append(f"The oldest message due in the outbox has waited {int(oldest_seconds)} s (limit {max_age} s).")
    stuck = db.session.scalar(select(func.count()).select_from(OutboundMessage).where(
        OutboundMessage.status == MessageStatus.SENDING.value, OutboundMessage.lease_until < late))
    if stuck:
        problems.append(f"{stuck} message(s) are stuck in sending past their lease.")
    unanswered = list(db.session.scalars(select(Alert.id).where(
        Alert.status == AlertStatus.TRIGGERED.value, Alert.unanswered_at.is_not(None)).order_by(Alert.id).limit(50)))
    return PagingHealth(age, max_age, problems, unpaged, unanswered, oldest_seconds, stuck)


def _warn_admins(text: str) -> int:
    """Log the warning and email every active administrator; each attempt is recorded. Returns emails sent.

    These go straight through the channel, not the outbox, which may be what is stuck; each row is committed
    before its send and its outcome after, so no transaction is open while the mail server is talked to.
    """
    config = current_app.config
    ConsoleChannel().send(Message(to="administrators", body=text, kind="email", subject="Paging engine unhealthy"))
    sent = 0
    admins = list(db.session.scalars(select(User).where(User.role == Role.ADMIN, User.active.is_(True))))
    for admin in admins:
        channel = channel_for("email", config) if email_enabled(config) else ConsoleChannel()
        record = OutboundMessage(user_id=admin.id, channel=channel.name, kind="email", address=admin.email,
                                 purpose="engine_health", subject="Quarterdeck paging engine unhealthy", body=text,
                                 status=MessageStatus.SENDING.value, claimed_by="self-check", attempts=1,
                                 lease_until=utcnow() + timedelta(minutes=5))
        db.session.add(record)
        db.session.commit()
        try:
            reference = channel.send(Message(to=admin.email, body=text, kind="email", subject=record.subject,
                                             message_id=record.id))
        except ChannelError as error:
            record.status, record.last_error, record.lease_until = MessageStatus.FAILED.value, str(error)[:500], None
        else:
            record.status, record.sent_at, record.provider_ref = MessageStatus.SENT.value, utcnow(), reference
            record.lease_until = None
            sent += 1
        db.session.commit()
    return sent


def check_paging_engine() -> dict[str, object]:
    """The self-check job: raise (and warn about) the unhealthy alert, or resolve it once healthy; commits."""
    health = paging_health()
    open_alert = services.open_alert_with_key(UNHEALTHY_KEY)
    if health.ok:
        if open_alert is not None:
            services.resolve(open_alert, actor="self-check", via="the scheduler",
                             note="The paging engine is healthy again.")
            db.session.commit()
        return {"ok": True}
    text = "Quarterdeck paging engine unhealthy: " + " ".join(health.problems)
    alert, created = open_alert, False
    if alert is None:
        alert, created = services.raise_alert(summary="Paging engine unhealthy", details=text, source="system",
                                              severity="critical", dedup_key=UNHEALTHY_KEY)
    last_warning = db.session.scalar(select(func.max(OutboundMessage.created_at)).where(
        OutboundMessage.purpose == "engine_health"))
    warned = 0
    if created or last_warning is None or utcnow() - last_warning >= REPEAT:
        warned = _warn_admins(text)
        timeline.note(alert, "notified", f"Administrators warned directly (console and {warned} email(s)).",
                      actor="self-check")
    db.session.commit()
    log.error(text)
    return {"ok": False, "problems": health.problems, "emails": warned}
