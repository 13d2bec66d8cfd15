"""Writing an alert's timeline: every state change, notification attempt and delivery report gets a line."""
from __future__ import annotations

from sqlalchemy import insert

from app.alerting.models import Alert, AlertEvent, OutboundMessage
from app.extensions import db
from app.timeutil import utcnow

ENGINE = "paging engine"


def note_many(alert_ids: list[int], kind: str, text: str, *, actor: str = ENGINE,
              message_id: int | None = None) -> None:
    """The same line on several alerts' timelines in one statement (a bundle that went out)."""
    now = utcnow()
    db.session.connection().execute(insert(AlertEvent.__table__), [
        {"alert_id": alert_id, "at": now, "kind": kind, "actor": actor[:120], "text": text[:500],
         "message_id": message_id} for alert_id in alert_ids])


def note(alert: Alert | int, kind: str, text: str, *, actor: str = ENGINE,
         message: OutboundMessage | None = None) -> AlertEvent:
    """Add one line to the alert's timeline (in the caller's transaction)."""
    alert_id = alert if isinstance(alert, int) else alert.id
    event = AlertEvent(alert_id=alert_id, at=utcnow(), kind=kind, actor=actor[:120], text=text[:500],
                       message_id=message.id if message is not None else None)
    db.session.add(event)
    return event
