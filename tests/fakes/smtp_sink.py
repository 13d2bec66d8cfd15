"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, and refuses chosen recipients."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def __getitem__(self, header: str) -> str | None:
        return self.message[header]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def body(self) -> str:
        return self.message.get_content()


class _EphemeralPortController(Controller):
    """aiosmtpd's controller, listening on a port the system picks (it checks readiness on `port`)."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    """Start it, set SMTP_URL to `url`, read `messages`. `refuse(address)` answers that RCPT with a 550."""

    def __init__(self, username: str | None = None, password: str | None = None):
        self.messages: list[ReceivedMail] = []
        self._refusals: dict[str, str] = {}
        self._changed = threading.Condition()
        self.username, self.password = username, password
        auth = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False} \
            if username else {}
        self._controller = _EphemeralPortController(self, hostname="127.0.0.1", port=0, **auth)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def url(self) -> str:
        credentials = f"{self.username}:{self.password}@" if self.username else ""
        return f"smtp://{credentials}127.0.0.1:{self._controller.port}"

    def refuse(self, address: str, reply: str = "550 5.1.1 No such user here") -> None:
        """Answer RCPT TO `address` with `reply` (a 5xx is permanent, a 4xx temporary)."""
        self._refusals[address.lower()] = reply

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} mail(s) at the SMTP sink, got {len(self.messages)}")
                self._changed.wait(remaining)
            return list(self.messages)

    # aiosmtpd handler hooks

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self._refusals.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._changed:
            self.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        login = getattr(auth_data, "login", b"")
        password = getattr(auth_data, "password", b"")
        ok = login == (self.username or "").encode() and password == (self.password or "").encode()
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers the 535 itself
