"""Notification channels: one small module each, one send(), one error type. Only this package imports twilio.

`channel_for(kind, config)` picks the channel that carries a kind of message. A provider without its
credentials is off, and the console stands in for it, so nothing is ever half configured.
"""
from __future__ import annotations

from collections.abc import Mapping

from app.alerting.channels.base import ChannelError, Message
from app.alerting.channels.console import ConsoleChannel
from app.alerting.channels.email import EmailChannel, email_enabled
from app.alerting.channels.gsm import fit_one_segment, to_gsm7
from app.alerting.channels.twilio_common import twilio_enabled, voice_enabled
from app.alerting.channels.twilio_sms import TwilioSmsChannel
from app.alerting.channels.twilio_voice import TwilioVoiceChannel

__all__ = ["ChannelError", "ConsoleChannel", "EmailChannel", "Message", "TwilioSmsChannel", "TwilioVoiceChannel",
           "channel_for", "email_enabled", "fit_one_segment", "to_gsm7", "twilio_enabled", "voice_enabled"]


def channel_for(kind: str, config: Mapping):
    """The channel that carries `kind` (sms, voice or email) under `config`; the console when it is not set up."""
    if kind == "sms" and twilio_enabled(config):
        return TwilioSmsChannel(config)
    if kind == "voice" and voice_enabled(config):
        return TwilioVoiceChannel(config)
    if kind == "email" and email_enabled(config):
        return EmailChannel(config)
    return ConsoleChannel()
