"""Delivery reports and call answers from the provider: they only ever move a message forward.

A report for a message we do not know is acknowledged and ignored. "delivered" never goes back to
"sent" when reports arrive out of order. A failed delivery with a permanent error code disables the
contact method; any failed delivery of an alert page moves on to the person's next method.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.alerting import timeline
from app.alerting.channels.twilio_common import delivery_error_is_permanent
from app.alerting.failover import disable_method, fail_over
from app.alerting.models import Alert, AlertStatus, MessageStatus, OutboundMessage
from app.alerting.outbox import settle_as_sent
from app.extensions import db
from app.timeutil import utcnow

# Provider words for SMS and calls, by how far along they are. Equal ranks do not replace each other.
RANK = {"accepted": 1, "queued": 1, "initiated": 1, "scheduled": 1,
        "sending": 2, "ringing": 2,
        "sent": 3, "in-progress": 3, "answered": 3,
        "delivered": 4, "read": 4, "completed": 4,
        "undelivered": 4, "failed": 4, "busy": 4, "no-answer": 4, "canceled": 4}
DELIVERED = {"delivered", "read", "completed"}
NOT_DELIVERED = {"undelivered", "failed", "busy", "no-answer", "canceled"}


def message_and_alerts(message_id: str | int | None) -> tuple[OutboundMessage | None, list[Alert]]:
    """The message a callback names and the alerts it carried (its own and those bundled into it)."""
    try:
        message = db.session.get(OutboundMessage, int(message_id))
    except (TypeError, ValueError):
        return None, []
    if message is None:
        return None, []
    ids = [message.alert_id] if message.alert_id else []
    ids += [i for i in db.session.scalars(select(OutboundMessage.alert_id).where(
        OutboundMessage.bundled_into_id == message.id)) if i and i not in ids]
    alerts = [db.session.get(Alert, alert_id) for alert_id in ids]
    return message, [alert for alert in alerts if alert is not None]


def record_delivery_report(message_id: str | int | None, status: str, error_code: str | None = None,
                           provider_ref: str | None = None) -> bool:
    """Apply a provider's status for a message and commit; False when it was unknown, stale or not a status."""
    for _attempt in range(3):
        try:
            return _apply_report(message_id, (status or "").strip().lower(), error_code, provider_ref)
        except StaleDataError:
            db.session.rollback()  # the engine moved one of the alerts meanwhile; read again and re-apply
    return False


def _apply_report(message_id: str | int | None, status: str, error_code: str | None,
                  provider_ref: str | None) -> bool:
    db.session.expire_all()
    message, alerts = message_and_alerts(message_id)
    if message is None or status not in RANK:
        return False
    if RANK[status] <= RANK.get(message.delivery_status or "", 0):
        return False  # older news than what we have (reports can arrive out of order)
    message.delivery_status = status
    if message.status in (MessageStatus.SENDING.value, MessageStatus.PENDING.value) and status not in NOT_DELIVERED:
        # Any report means the provider took it: a "maybe sent" message (its sender died, or timed out) is
        # settled here, so it is not sent a second time when its lease runs out.
        settle_as_sent(message, utcnow(), why=f"delivery report '{status}'",
                       reference=(provider_ref or "")[:64] or None)
        db.session.refresh(message)
    words = f"{message.kind.upper()} to {message.address}: {status}" + (f" (error {error_code})" if error_code else "")
    if status in DELIVERED:
        message.status, message.delivered_at = MessageStatus.DELIVERED.value, utcnow()
    elif status in NOT_DELIVERED:
        message.status, message.last_error = MessageStatus.FAILED.value, f"Provider reported {status}" + (
            f", error {error_code}" if error_code else "")
        if delivery_error_is_permanent(error_code) and message.contact_method_id:
            message.permanent_failure = True
            disable_method(message.contact_method_id, f"{message.kind.upper()} could not be delivered "
                                                      f"(error {error_code}).")
    for alert in alerts:
        timeline.note(alert, "delivery", words, actor="Twilio", message=message)
        if status in NOT_DELIVERED and alert.status == AlertStatus.TRIGGERED.value and message.user_id:
            fail_over(alert, message.user_id, utcnow())
    db.session.commit()
    return True
