"""The email channel: plain-text mail through the SMTP server named by SMTP_URL."""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from app.alerting.channels.base import ChannelError, Message

DEFAULT_FROM = "quarterdeck@localhost"
DEFAULT_TIMEOUT_SECONDS = 10
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool  # smtps://: TLS from the first byte
    starttls: bool  # smtp://...?starttls=true: upgrade the plain connection before logging in
    username: str
    password: str


def parse_smtp_url(url: str) -> SmtpServer:
    """Read `smtp://user:pass@host:25`, `smtp://host:587?starttls=true` or `smtps://host:465`.

    Raises ValueError saying what is wrong, without repeating the URL: it may hold a password.
    (config.py checks SMTP_URL at start-up; this is the channel's own reading of it.)
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError(f"must start with smtp:// or smtps://, got {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError("must name a host, such as smtp://mail.example.com:25")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has a malformed port") from None
    starttls_words = parse_qs(parts.query).get("starttls", ["false"])
    starttls_word = starttls_words[-1].strip().lower()
    if starttls_word not in TRUE_WORDS | FALSE_WORDS:
        raise ValueError(f"starttls must be true or false, got {starttls_word!r}")
    implicit_tls = parts.scheme == "smtps"
    return SmtpServer(host=parts.hostname, port=port or (465 if implicit_tls else 25), implicit_tls=implicit_tls,
                      # smtps:// is encrypted from the first byte: there is nothing to upgrade
                      starttls=starttls_word in TRUE_WORDS and not implicit_tls,
                      username=unquote(parts.username or ""),
                      password=unquote(parts.password or ""))


def email_enabled(config: Mapping) -> bool:
    """True when an SMTP server is configured; otherwise email goes to the console."""
    return bool(config.get("SMTP_URL"))


class EmailChannel:
    name = "email"
    keeps_body = False

    def __init__(self, config: Mapping):
        self.url = str(config["SMTP_URL"])
        self.sender = str(config.get("SMTP_FROM") or DEFAULT_FROM)
        self.timeout = float(config.get("SMTP_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS)

    def send(self, message: Message) -> str:
        """Hand the mail to the SMTP server and return its Message-ID; raise ChannelError when it is refused."""
        mail = self._compose(message)
        try:
            server = parse_smtp_url(self.url)
        except ValueError as error:  # start-up checks SMTP_URL; this guards an app configured in code
            raise ChannelError(f"SMTP_URL {error}") from None
        try:
            smtp = self._connect(server)
        except (smtplib.SMTPException, OSError) as error:  # refused, unreachable, TLS, login: nothing was sent
            raise ChannelError(f"the mail server could not be reached: {error.__class__.__name__}: {error}") \
                from error
        try:
            with smtp:
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            permanent = bool(codes) and all(500 <= code < 600 for code in codes)
            raise ChannelError(f"the mail server refused {message.to}: {_reply_text(error.recipients)}",
                               permanent=permanent) from error
        except smtplib.SMTPDataError as error:
            # 5xx after DATA: the server will not take this message for this recipient, ever.
            raise ChannelError(f"the mail server rejected the message: {error.smtp_code}",
                               permanent=500 <= error.smtp_code < 600) from error
        except smtplib.SMTPSenderRefused as error:
            # Our From address is at fault, not the recipient: retry (and let someone fix SMTP_FROM).
            raise ChannelError(f"the mail server refused the sender {self.sender}: {error.smtp_code}") from error
        except smtplib.SMTPResponseException as error:  # a refusal the server answered: it kept nothing
            raise ChannelError(f"the mail server answered {error.smtp_code}: {error.smtp_error!r}") from error
        except (smtplib.SMTPException, OSError) as error:
            # A timeout or a dropped connection in the middle of the conversation: the server may have queued
            # the mail already (after DATA), so this is "maybe sent", not a failure to retry at once.
            raise ChannelError(f"the mail server stopped answering: {error.__class__.__name__}: {error}",
                               uncertain=True) from error
        return mail["Message-ID"]

    def _compose(self, message: Message) -> EmailMessage:
        _name, address = parseaddr(message.to)
        if "@" not in address or any(c in message.to for c in "\r\n"):
            raise ChannelError(f"not an email address: {message.to!r}", permanent=True)
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = " ".join((message.subject or "Quarterdeck").split())
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = make_msgid(domain=domain)
        mail.set_content(message.body)
        return mail

    def _connect(self, server: SmtpServer) -> smtplib.SMTP:
        if server.implicit_tls:
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        try:
            if server.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if server.username:
                smtp.login(server.username, server.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


def _reply_text(recipients: Mapping) -> str:
    return "; ".join(f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
                     for code, text in recipients.values())
