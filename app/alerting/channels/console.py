"""The console channel: needs no credentials; the terminal and the Messages page stand in for the phone."""
from __future__ import annotations

import logging

from app.alerting.channels.base import Message

log = logging.getLogger("quarterdeck.console")


class ConsoleChannel:
    name = "console"
    # Console messages are kept whole so their recipient can read them on the Messages page.
    keeps_body = True

    def send(self, message: Message) -> str:
        body = "(a verification code: open Messages in Quarterdeck to read it)" if message.sensitive else message.body
        log.warning("[console %s -> %s] %s", message.kind, message.to, body.replace("\n", " | "))
        return f"console-{message.message_id}"
