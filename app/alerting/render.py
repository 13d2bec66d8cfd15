"""The words of alert messages: templates in templates/messages/, SMS kept to GSM-7 and one segment."""
from __future__ import annotations

from flask import current_app, render_template

from app.alerting.channels.gsm import fit_one_segment, to_gsm7
from app.alerting.models import Alert

SEGMENT = 160


def alert_url(alert: Alert) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/alerts/{alert.id}"


def sms_text(items: list[tuple[int, Alert]]) -> str:
    """One SMS for one alert or a bundle: the reply instructions always survive, the summaries are cut."""
    first_code = items[0][0]
    instructions = to_gsm7(render_template("messages/alert_sms_reply.txt", code=first_code, count=len(items)).strip())
    head = to_gsm7(render_template("messages/alert_sms.txt", items=items).strip())
    room = SEGMENT - len(instructions) - 1
    return f"{fit_one_segment(head, limit=room)} {instructions}"


def voice_text(alerts: list[Alert]) -> str:
    return render_template("messages/alert_voice.txt", alerts=alerts).strip()


def email_parts(alerts: list[Alert]) -> tuple[str, str]:
    """(subject, body) of an alert email; the template's first line is the subject."""
    text = render_template("messages/alert_email.txt", alerts=alerts, url=alert_url).strip()
    subject, _, body = text.partition("\n")
    return subject.strip()[:200], body.strip()
