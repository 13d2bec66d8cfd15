"""The Twilio voice channel: a phone call whose words and keypad menu Quarterdeck serves as TwiML."""
from __future__ import annotations

from collections.abc import Mapping

from twilio.twiml.voice_response import VoiceResponse

from app.alerting.channels.base import Message
from app.alerting.channels.twilio_common import channel_error_from, client_for, status_callback_url

MENU_PROMPT = "Press 4 to acknowledge, 6 to resolve, 5 to escalate now, star to repeat."
GOODBYE = "No key was pressed. Goodbye."
# Seconds the caller has to press a key after the menu has been read.
GATHER_TIMEOUT_SECONDS = 8
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


class TwilioVoiceChannel:
    name = "twilio_voice"
    # Unlike SMS, Twilio never holds a call's words: it fetches them from /twilio/voice when the call is
    # answered, so the text (a verification code included) must be kept until then.
    keeps_body = True

    def __init__(self, config: Mapping):
        self.config = config

    def send(self, message: Message) -> str:
        """Ask Twilio to place the call and return its call SID; raise ChannelError when Twilio refuses it.

        Twilio fetches what to say from /twilio/voice when the call is answered. Machine detection is on so
        the answer webhook can tell a voicemail greeting (which acknowledges nothing) from a person.
        """
        base = str(self.config["PUBLIC_BASE_URL"]).rstrip("/")
        try:
            call = client_for(self.config).calls.create(
                to=message.to, from_=self.config["TWILIO_FROM_NUMBER"],
                url=f"{base}/twilio/voice?message_id={message.message_id}",
                status_callback=status_callback_url(self.config, message.message_id),
                status_callback_event=CALL_EVENTS, machine_detection="Enable")
        except Exception as error:  # the SDK raises its own, requests' and JSON errors; all are classified
            raise channel_error_from(error) from error
        return call.sid


def menu_twiml(text: str, gather_url: str) -> str:
    """TwiML that says `text` twice, then offers the keypad menu posting one digit to `gather_url`.

    When no key is pressed before the gather times out, the call says goodbye and hangs up.
    """
    response = VoiceResponse()
    response.say(text)
    response.pause(length=1)
    response.say(text)
    gather = response.gather(num_digits=1, action=gather_url, method="POST", timeout=GATHER_TIMEOUT_SECONDS)
    gather.say(MENU_PROMPT)
    response.say(GOODBYE)
    response.hangup()
    return str(response)


def say_twiml(text: str) -> str:
    """TwiML that says `text` once and hangs up."""
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return str(response)
