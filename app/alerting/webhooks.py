"""Twilio's calls into Quarterdeck: SMS replies, the voice call and its key presses, delivery reports.

Every request must carry a valid X-Twilio-Signature computed over PUBLIC_BASE_URL + path + query (never the
Host header, which a proxy or an attacker controls). No token configured: every request is refused.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from app.access import public
from app.alerting import services, timeline
from app.alerting.channels.twilio_common import auth_tokens, signature_is_valid
from app.alerting.channels.twilio_reply import reply_twiml
from app.alerting.channels.twilio_voice import menu_twiml, say_twiml
from app.alerting.failover import fail_over
from app.alerting.render import voice_text
from app.alerting.replies import handle_sms_reply
from app.alerting.reports import message_and_alerts, record_delivery_report
from app.extensions import csrf, db, limiter
from app.timeutil import utcnow

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
csrf.exempt(bp)
KEYS = {"4": ("ack", services.acknowledge, "Acknowledged"), "6": ("resolve", services.resolve, "Resolved"),
        "5": ("escalate", services.escalate, "Escalated")}


def _public_url() -> str:
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    query = request.query_string.decode()
    return f"{base}{request.path}" + (f"?{query}" if query else "")


@bp.before_request
def _check_signature() -> None:
    if not signature_is_valid(_public_url(), request.form.to_dict(), request.headers.get("X-Twilio-Signature"),
                              auth_tokens(current_app.config)):
        abort(403)


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


@bp.post("/sms")
@public
@limiter.limit("60/minute", key_func=lambda: request.form.get("From", ""))
def sms():
    return _xml(reply_twiml(handle_sms_reply(request.form.get("From", "").strip(), request.form.get("Body", ""))))


@bp.post("/status")
@public
def status():
    record_delivery_report(request.args.get("message_id"),
                           request.form.get("MessageStatus") or request.form.get("CallStatus") or "",
                           request.form.get("ErrorCode") or None,
                           provider_ref=request.form.get("MessageSid") or request.form.get("CallSid"))
    return Response(status=204)


def _gather_url(message_id: int) -> str:
    return f"{str(current_app.config['PUBLIC_BASE_URL']).rstrip('/')}/twilio/voice/gather?message_id={message_id}"


@bp.post("/voice")
@public
def voice():
    message, alerts = message_and_alerts(request.args.get("message_id"))
    if message is not None and not alerts and message.body:
        # Not a page: a verification code, a reminder or a test call. Say it twice; there is no menu.
        return _xml(say_twiml(f"{message.body} {message.body}"))
    if message is None or not alerts:
        return _xml(say_twiml("This Quarterdeck alert is no longer available. Goodbye."))
    answered_by = request.form.get("AnsweredBy", "")
    if answered_by.startswith("machine") or answered_by == "fax":
        for alert in alerts:
            timeline.note(alert, "voicemail", f"Call to {message.address} reached voicemail: not acknowledged.",
                          actor="Twilio", message=message)
            if alert.status == "triggered" and message.user_id:
                fail_over(alert, message.user_id, utcnow())
        db.session.commit()
        return _xml(say_twiml(f"{voice_text(alerts)} Open Quarterdeck to acknowledge."))
    for alert in alerts:
        timeline.note(alert, "answered", f"{message.user.name if message.user else message.address} answered "
                      "the call.", actor="Twilio", message=message)
    db.session.commit()
    return _xml(menu_twiml(voice_text(alerts), _gather_url(message.id)))


@bp.post("/voice/gather")
@public
def gather():
    message, alerts = message_and_alerts(request.args.get("message_id"))
    if message is None or not alerts:
        return _xml(say_twiml("This Quarterdeck alert is no longer available. Goodbye."))
    digit = request.form.get("Digits", "")[:1]
    if digit not in KEYS:
        prefix = "" if digit == "*" else "Sorry, that key does nothing. "
        return _xml(menu_twiml(prefix + voice_text(alerts), _gather_url(message.id)))
    _name, action, done = KEYS[digit]
    actor = message.user.name if message.user else message.address
    results = [services.act_and_commit(alert.id, lambda a, act=action: act(a, actor=actor,
                                                                           via=f"voice call to {message.address}"))
               for alert in alerts]
    changed = any(result for _alert, result in results)
    words = f"{done}." if changed else "Nothing changed: it was already done."
    return _xml(say_twiml(f"{words} Goodbye."))
