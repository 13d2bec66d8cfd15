"""The Twilio SMS channel: one text message per send, its delivery reported back to /twilio/status."""
from __future__ import annotations

from collections.abc import Mapping

from app.alerting.channels.base import ChannelError, Message
from app.alerting.channels.gsm import to_gsm7
from app.alerting.channels.twilio_common import channel_error_from, client_for, status_callback_url


class TwilioSmsChannel:
    name = "twilio_sms"
    # The provider holds the delivered text; we keep it only when it holds no secret (see delivery.py).
    keeps_body = False

    def __init__(self, config: Mapping):
        self.config = config

    def send(self, message: Message) -> str:
        """Hand the text to Twilio and return its message SID; raise ChannelError when Twilio refuses it."""
        sender = ({"from_": self.config["TWILIO_FROM_NUMBER"]} if self.config.get("TWILIO_FROM_NUMBER")
                  else {"messaging_service_sid": self.config["TWILIO_MESSAGING_SERVICE_SID"]})
        body = to_gsm7(message.body).strip()
        if not body:
            raise ChannelError("the message has no text left to send", permanent=True)
        try:
            sent = client_for(self.config).messages.create(
                to=message.to, body=body,
                status_callback=status_callback_url(self.config, message.message_id), **sender)
        except Exception as error:  # the SDK raises its own, requests' and JSON errors; all are classified
            raise channel_error_from(error) from error
        return sent.sid
