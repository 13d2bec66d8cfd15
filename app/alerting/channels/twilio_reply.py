"""The TwiML answer to an inbound SMS: one message back, or nothing at all."""
from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse


def reply_twiml(text: str | None) -> str:
    """`<Response><Message>text</Message></Response>`, or an empty `<Response/>` when there is nothing to say."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)
