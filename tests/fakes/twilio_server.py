"""A stand-in for Twilio's REST API on 127.0.0.1, so the real SDK sends real HTTP requests in tests.

It takes Messages.json and Calls.json as Twilio does (Basic auth as account SID and token, form-encoded
parameters, Twilio-shaped JSON answers), records every request, fails on demand, and signs the webhooks
Twilio would send back (status callbacks, SMS replies, voice key presses) with Twilio's algorithm.
"""
from __future__ import annotations

import base64
import json
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests
from twilio.request_validator import RequestValidator

API_PREFIX = "/2010-04-01/Accounts/"
E164 = re.compile(r"\+[1-9]\d{6,14}")


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class Failure:
    """How to answer a request instead of accepting it. `delay` holds the answer back first (a timeout)."""
    status: int = 500
    code: int | None = None
    message: str = "Internal error"
    delay: float = 0.0


@dataclass
class TwilioRecord:
    """One request the stand-in received: what was asked, and how it was answered."""
    kind: str  # "message" or "call"
    form: dict[str, str]  # each parameter's last value
    values: dict[str, list[str]]  # every value, for repeated parameters such as StatusCallbackEvent
    status_code: int = 0
    sid: str | None = None  # set when accepted
    received_at: float = field(default_factory=time.monotonic)

    def __getitem__(self, name: str) -> str | None:
        return self.form.get(name)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status_code < 300

    to = property(lambda self: self.form.get("To"))
    from_ = property(lambda self: self.form.get("From"))
    body = property(lambda self: self.form.get("Body"))
    messaging_service_sid = property(lambda self: self.form.get("MessagingServiceSid"))
    status_callback = property(lambda self: self.form.get("StatusCallback"))
    url = property(lambda self: self.form.get("Url"))
    machine_detection = property(lambda self: self.form.get("MachineDetection"))

    @property
    def message_id(self) -> int | None:
        """Our outbound message id, as carried in the status callback URL."""
        query = parse_qs(urlsplit(self.status_callback or "").query)
        return int(query["message_id"][0]) if query.get("message_id", [""])[0].isdigit() else None


def signed_request(url: str, params: dict[str, str], token: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """What Twilio would POST to `url`: (path with query, form, headers with X-Twilio-Signature).

    The signature covers the full `url`, so a test posting the path through the Flask test client checks the
    app's use of PUBLIC_BASE_URL exactly as production would.
    """
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    signature = RequestValidator(token).compute_signature(url, params)
    return path, dict(params), {"X-Twilio-Signature": signature}


class _Server(ThreadingHTTPServer):
    # A listen backlog like a real server's: with the default of 5, a burst of 48 pooled connections
    # overflowed it and the kernel reset some after their request went out ("maybe sent" in the engine).
    request_queue_size = 256


class FakeTwilio:
    """The stand-in server. Start it, point TWILIO_API_BASE_URL at `url`, read `messages` and `calls`."""

    def __init__(self, account_sid: str | None = None, auth_token: str | None = None,
                 from_number: str = "+15005550006"):
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.from_number = from_number
        # Seconds an accepted request is held before its answer, as a real provider's round trip would be:
        # a fixed time, or (answer_range) a random one between two bounds for each request.
        self.answer_seconds = 0.0
        self.answer_range: tuple[float, float] | None = None
        self.answer_seconds_for: dict[str, float] = {}  # a number whose answers take this long instead
        # Where Twilio's delivery reports go, as the real service posts them: each accepted message gets a
        # signed "sent" report at its StatusCallback URL (rebased onto this origin) shortly after.
        self.report_to: str | None = None
        self.report_delay = 0.05
        self.reports: list[tuple[int | None, int]] = []  # (message id, HTTP status the app answered)
        self.requests: list[TwilioRecord] = []  # every request, failed ones too
        self.in_flight = 0  # requests received and not yet answered
        self._changed = threading.Condition()
        self._next_failures: list[Failure] = []
        self._failures_by_number: dict[str, Failure] = {}
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ---------------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval keeps stop() quick: tests start and stop a server each.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-twilio", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes requests held back by a delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- what arrived -------------------------------------------------------------------------------

    def _accepted(self, kind: str | None) -> list[TwilioRecord]:
        with self._changed:
            return [r for r in self.requests if r.accepted and (kind is None or r.kind == kind)]

    @property
    def messages(self) -> list[TwilioRecord]:
        """SMS Twilio accepted, in the order they arrived (what the phones will receive)."""
        return self._accepted("message")

    @property
    def calls(self) -> list[TwilioRecord]:
        """Calls Twilio accepted, in the order they arrived."""
        return self._accepted("call")

    def wait_for(self, count: int, timeout: float = 5.0, kind: str | None = None) -> list[TwilioRecord]:
        """Block until at least `count` accepted requests (of `kind`: "message", "call" or either) arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := [r for r in self.requests if r.accepted and kind in (None, r.kind)]) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} accepted {kind or 'request'}(s) at the stand-in "
                                         f"Twilio within {timeout}s, got {len(found)}")
                self._changed.wait(remaining)
            return found

    def wait_in_flight(self, count: int = 1, timeout: float = 10.0) -> None:
        """Block until at least `count` requests are being held (received, not yet answered)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.in_flight < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} request(s) held at the stand-in within {timeout}s")
                self._changed.wait(remaining)

    def clear(self) -> None:
        """Forget what arrived (failures set up stay)."""
        with self._changed:
            self.requests.clear()

    # --- failing on demand --------------------------------------------------------------------------

    def fail_next(self, status: int = 500, code: int | None = None, message: str | None = None,
                  delay: float = 0.0, times: int = 1) -> None:
        """Answer the next `times` requests with HTTP `status` and Twilio error `code`.

        With `delay`, the answer is held back that many seconds first: longer than the client's timeout, it
        is a timeout. A request answered late is treated as not sent (it never shows in `messages`).
        """
        failure = Failure(status=status, code=code, message=message or _default_message(status, code), delay=delay)
        with self._changed:
            self._next_failures.extend([failure] * times)

    def fail_for(self, to_number: str, status: int = 400, code: int | None = 21211, message: str | None = None,
                 delay: float = 0.0) -> None:
        """Answer every request to `to_number` with this failure until `clear_failures()`."""
        with self._changed:
            self._failures_by_number[to_number] = Failure(status=status, code=code, delay=delay,
                                                          message=message or _default_message(status, code))

    def clear_failures(self) -> None:
        with self._changed:
            self._next_failures.clear()
            self._failures_by_number.clear()

    def _failure_for(self, to_number: str | None) -> Failure | None:
        with self._changed:
            if self._next_failures:
                return self._next_failures.pop(0)
            return self._failures_by_number.get(to_number or "")

    # --- webhooks Twilio sends back -----------------------------------------------------------------

    def signed_status(self, record: TwilioRecord, status: str, error_code: str | int | None = None,
                      base_url: str | None = None, token: str | None = None,
                      extra: dict[str, str] | None = None) -> tuple[str, dict[str, str], dict[str, str]]:
        """The delivery report Twilio would POST to `record`'s StatusCallback: (path?query, form, headers).

        `base_url` replaces the callback's scheme and host in the signed URL (to sign for another address);
        `token` defaults to this account's token.
        """
        url = record.status_callback
        if not url:
            raise AssertionError("this request carried no StatusCallback")
        if base_url:
            parts = urlsplit(url)
            url = base_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
        return signed_request(url, self.status_form(record, status, error_code, extra), token or self.auth_token)

    def status_form(self, record: TwilioRecord, status: str, error_code: str | int | None = None,
                    extra: dict[str, str] | None = None) -> dict[str, str]:
        """The form fields of a status callback for `record` (a message's or a call's)."""
        common = {"AccountSid": self.account_sid, "To": record.to or "", "ApiVersion": "2010-04-01",
                  "From": record.from_ or self.from_number}
        if record.kind == "message":
            form = {**common, "MessageSid": record.sid or "", "SmsSid": record.sid or "",
                    "MessageStatus": status, "SmsStatus": status}
            if record.messaging_service_sid:
                form["MessagingServiceSid"] = record.messaging_service_sid
        else:
            form = {**common, "CallSid": record.sid or "", "CallStatus": status, "Direction": "outbound-api",
                    "Timestamp": formatdate(usegmt=True)}
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        form.update(extra or {})
        return form

    def post_status(self, record: TwilioRecord, status: str, error_code: str | int | None = None,
                    send_to: str | None = None, timeout: float = 5.0, **kwargs) -> requests.Response:
        """POST the signed delivery report over HTTP, as Twilio does, to a live app server.

        The signature is over the callback URL (the app's PUBLIC_BASE_URL); `send_to` is where the server
        really listens when that differs (e.g. http://127.0.0.1:54321).
        """
        path, form, headers = self.signed_status(record, status, error_code, **kwargs)
        target = (send_to.rstrip("/") + path) if send_to else _origin(record.status_callback) + path
        return requests.post(target, data=form, headers=headers, timeout=timeout)

    def _report(self, record: TwilioRecord) -> None:
        """The delivery report Twilio sends on its own after taking a message (best effort, as Twilio's is)."""
        try:
            response = self.post_status(record, "sent", send_to=self.report_to, timeout=10)
            status = response.status_code
        except requests.RequestException:
            status = 0
        with self._changed:
            self.reports.append((record.message_id, status))

    def signed_sms_reply(self, url: str, from_number: str, body: str, token: str | None = None,
                         to_number: str | None = None) -> tuple[str, dict[str, str], dict[str, str]]:
        """An incoming SMS from `from_number` as Twilio POSTs it to `url` (the app's /twilio/sms)."""
        form = {"MessageSid": new_sid("SM"), "SmsSid": "", "AccountSid": self.account_sid, "From": from_number,
                "To": to_number or self.from_number, "Body": body, "NumMedia": "0", "NumSegments": "1",
                "ApiVersion": "2010-04-01"}
        form["SmsSid"] = form["MessageSid"]
        return signed_request(url, form, token or self.auth_token)

    def signed_voice(self, record: TwilioRecord, url: str, digits: str | None = None,
                     answered_by: str | None = None, call_status: str = "in-progress",
                     token: str | None = None) -> tuple[str, dict[str, str], dict[str, str]]:
        """Twilio's request for TwiML on `record`'s call: at answer (`answered_by`) or after a key (`digits`)."""
        form = self.status_form(record, call_status)
        if answered_by is not None:
            form["AnsweredBy"] = answered_by
        if digits is not None:
            form["Digits"] = digits
            form["FinishedOnKey"] = ""
        return signed_request(url, form, token or self.auth_token)

    def signed_request(self, url: str, params: dict[str, str], token: str | None = None):
        return signed_request(url, params, token or self.auth_token)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _default_message(status: int, code: int | None) -> str:
    known = {21211: "The 'To' number is not a valid phone number.", 21610: "Attempt to send to unsubscribed recipient",
             21614: "'To' number is not a valid mobile number", 20429: "Too Many Requests"}
    if code in known:
        return known[code]
    return {429: "Too Many Requests", 401: "Authenticate"}.get(status, "Internal error" if status >= 500 else "Bad request")


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Headers and body go out in two writes; without this each answer waits for a delayed ACK (~40 ms).
        disable_nagle_algorithm = True
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's pooled session expects

        def log_message(self, format, *args):  # quiet: pytest shows failures, not traffic
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8")
            values = parse_qs(raw, keep_blank_values=True)
            match = re.fullmatch(API_PREFIX + r"([^/]+)/(Messages|Calls)\.json", urlsplit(self.path).path)
            if not match:
                return self._reply(404, _error(20404, "The requested resource was not found", 404))
            if not self._authorised(match.group(1)):
                return self._reply(401, _error(20003, "Authenticate", 401))
            kind = "message" if match.group(2) == "Messages" else "call"
            record = TwilioRecord(kind=kind, form={k: v[-1] for k, v in values.items()}, values=values)
            with fake._changed:
                fake.in_flight += 1
                fake._changed.notify_all()
            try:
                status, payload = self._answer(record)
            finally:
                with fake._changed:
                    fake.in_flight -= 1
            record.status_code = status
            with fake._changed:
                fake.requests.append(record)
                fake._changed.notify_all()
            self._reply(status, payload)

        def _authorised(self, path_sid: str) -> bool:
            expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
            return path_sid == fake.account_sid and self.headers.get("Authorization") == f"Basic {expected}"

        def _answer(self, record: TwilioRecord) -> tuple[int, dict]:
            failure = fake._failure_for(record.to)
            if failure is not None:
                if failure.delay:
                    fake._stopping.wait(failure.delay)
                return failure.status, _error(failure.code or failure.status, failure.message, failure.status)
            refusal = _validate(record)
            if refusal:
                return 400, _error(refusal[0], refusal[1], 400)
            delay = random.uniform(*fake.answer_range) if fake.answer_range else fake.answer_seconds
            delay = fake.answer_seconds_for.get(record.to or "", delay)
            if delay:
                fake._stopping.wait(delay)
            record.sid = new_sid("SM" if record.kind == "message" else "CA")
            if fake.report_to and record.status_callback:
                threading.Timer(fake.report_delay, fake._report, args=(record,)).start()
            return 201, _resource(fake, record)

        def _reply(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a timeout test)
                self.close_connection = True

    return Handler


def _validate(record: TwilioRecord) -> tuple[int, str] | None:
    """Twilio's own refusals for a malformed request, so a wrong parameter name fails a test loudly."""
    form = record.form
    if not form.get("To"):
        return 21604, "A 'To' phone number is required."
    if not E164.fullmatch(form["To"]):
        return 21211, f"The 'To' number {form['To']} is not a valid phone number."
    if record.kind == "message":
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return 21603, "A 'From' phone number or a MessagingServiceSid is required."
        if not form.get("Body"):
            return 21602, "Message body is required."
        if len(form["Body"]) > 1600:
            return 21617, "The concatenated message body exceeds the 1600 character limit."
    else:
        if not form.get("From"):
            return 21213, "Caller phone number is required."
        if not form.get("Url") and not form.get("Twiml"):
            return 21205, "Url parameter is required."
    return None


def _error(code: int, message: str, status: int) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


def _resource(fake: FakeTwilio, record: TwilioRecord) -> dict:
    form = record.form
    now = formatdate(usegmt=True)
    common = {"sid": record.sid, "account_sid": fake.account_sid, "to": form.get("To"), "status": "queued",
              "date_created": now, "date_updated": now, "direction": "outbound-api", "api_version": "2010-04-01",
              "price": None, "price_unit": "USD"}
    if record.kind == "message":
        return {**common, "from": form.get("From"), "body": form.get("Body"), "num_segments": "1",
                "messaging_service_sid": form.get("MessagingServiceSid"), "error_code": None, "error_message": None,
                "uri": f"{API_PREFIX}{fake.account_sid}/Messages/{record.sid}.json"}
    return {**common, "from": form.get("From"), "from_formatted": form.get("From"), "to_formatted": form.get("To"),
            "uri": f"{API_PREFIX}{fake.account_sid}/Calls/{record.sid}.json"}
