"""The words of alert messages: templates in templates/messages/, SMS kept to GSM-7 and one segment."""
from __future__ import annotations

from flask import current_app, render_template

from app.alerting.channels.gsm import fit_one_segment, gsm7_length, to_gsm7
from app.alerting.models import Alert
from app.providers import provided

SEGMENT = 160


def alert_url(alert: Alert) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/alerts/{alert.id}"


def short_link(path: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}{path}"


def _cut(text: str, room: int) -> str:
    """`text` in at most `room` septets, ending in ".." when it had to be cut."""
    if gsm7_length(text) <= room:
        return text
    return fit_one_segment(text, limit=max(room, 3)).removesuffix("...").rstrip(" .,;:") + ".."


def sms_text(items: list[tuple[int, Alert]]) -> str:
    """One SMS for one alert or a bundle, in one GSM-7 segment: the codes, the reply words and the link
    always survive; the summaries are cut to the room left (evenly, in a bundle)."""
    link = short_link(f"/a/{items[0][1].id}" if len(items) == 1 else "/alerts")
    summaries = [to_gsm7(" ".join(alert.summary.split())).rstrip(".") for _code, alert in items]
    for with_link in (link, ""):
        frame = to_gsm7(render_template("messages/alert_sms.txt", link=with_link,
                                        items=[(code, "") for code, _alert in items]).strip())
        room = SEGMENT - gsm7_length(frame)
        if room >= 3 * len(items):
            break
    share = room // len(items)
    cut = [_cut(summary, share) for summary in summaries]
    text = to_gsm7(render_template("messages/alert_sms.txt", link=with_link,
                                   items=[(code, summary) for (code, _alert), summary in zip(items, cut)]).strip())
    return fit_one_segment(text)  # a guard: the arithmetic above already keeps it within one segment


def voice_text(alerts: list[Alert]) -> str:
    return render_template("messages/alert_voice.txt", alerts=alerts).strip()


def email_parts(alerts: list[Alert]) -> tuple[str, str]:
    """(subject, body) of an alert email; the template's first line is the subject."""
    text = render_template("messages/alert_email.txt", alerts=alerts, url=alert_url, short_link=short_link,
                           related=lambda alert: provided("alert_links", alert)).strip()
    subject, _, body = text.partition("\n")
    return subject.strip()[:200], body.strip()
