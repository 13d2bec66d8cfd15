"""What the Twilio SMS and voice channels share: configuration, the SDK client, error classes, signatures."""
from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from app.alerting.channels.base import ChannelError

# The SDK logs every request at INFO; our callers log each outcome, so its chatter is kept to warnings.
sdk_log = logging.getLogger("quarterdeck.twilio.sdk")
sdk_log.setLevel(logging.WARNING)

DEFAULT_API_BASE_URL = "https://api.twilio.com"
DEFAULT_TIMEOUT_SECONDS = 10

# Send-time error codes that say the destination itself is wrong: retrying cannot help, the next
# contact method should be tried. https://www.twilio.com/docs/api/errors
PERMANENT_SEND_ERRORS = frozenset({
    21211,  # invalid To number
    21214,  # To number cannot be reached (not a valid phone number)
    21217,  # phone number does not appear to be valid
    21219,  # To number not verified (trial account)
    21401,  # invalid phone number
    21407,  # this phone number type does not support SMS or MMS
    21408,  # permission not enabled for the region of the To number
    21421,  # phone number is invalid
    21610,  # the recipient replied STOP (unsubscribed)
    21612,  # To number is not currently reachable via SMS
    21614,  # To number is not a mobile number
    21615,  # To number cannot receive calls
    13223,  # dial: invalid phone number format
    13224,  # dial: invalid phone number
    13225,  # dial: forbidden phone number
    13227,  # geo permission not enabled for the called country
})

# Error codes of our own account (authentication, suspension): the destination is fine, so a
# failure must not mark the contact method as broken; the engine retries and its self-check alarms.
ACCOUNT_ERRORS = frozenset({20003, 20005, 20008})

# ErrorCode values in status callbacks that mean the handset will not get this message, ever.
PERMANENT_DELIVERY_ERRORS = frozenset({
    "30003",  # unreachable destination handset
    "30004",  # message blocked
    "30005",  # unknown destination handset
    "30006",  # landline or unreachable carrier
    "30007",  # message filtered by the carrier
    "30032",  # toll-free number not verified
    "21211", "21612", "21610", "21614", "21408",
})


def twilio_enabled(config: Mapping) -> bool:
    """True when an account, its token and a sender (a number or a messaging service) are all configured."""
    return bool(config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")
                and (config.get("TWILIO_FROM_NUMBER") or config.get("TWILIO_MESSAGING_SERVICE_SID")))


def voice_enabled(config: Mapping) -> bool:
    """True when Twilio can place calls: that needs a caller number; a messaging service cannot call."""
    return twilio_enabled(config) and bool(config.get("TWILIO_FROM_NUMBER"))


def auth_tokens(config: Mapping) -> list[str]:
    """The tokens an inbound webhook may be signed with: the primary, then the one being rotated in or out."""
    return [token for token in (config.get("TWILIO_AUTH_TOKEN"), config.get("TWILIO_AUTH_TOKEN_SECONDARY")) if token]


def signature_is_valid(url: str, params: Mapping[str, str], signature: str | None, tokens: Sequence[str]) -> bool:
    """True when `signature` is Twilio's signature of `url` + `params` under one of `tokens`.

    `url` must be the public URL Twilio called (PUBLIC_BASE_URL + path + query), never one built from the
    request's Host header. A missing signature or no token at all is never valid. Every token is tried, so
    the time taken does not tell which one matched; each comparison is constant-time.
    """
    if not signature or not tokens:
        return False
    matches = [RequestValidator(token).validate(url, params, signature) for token in tokens if token]
    return any(matches)


def sign(url: str, params: Mapping[str, str], token: str) -> str:
    """The X-Twilio-Signature Twilio would send for a POST of `params` to `url`."""
    return RequestValidator(token).compute_signature(url, params)


def status_callback_url(config: Mapping, message_id: int | None) -> str:
    return f"{str(config['PUBLIC_BASE_URL']).rstrip('/')}/twilio/status?message_id={message_id}"


def delivery_error_is_permanent(code: str | int | None) -> bool:
    """True when a status callback's ErrorCode says the message can never reach this destination."""
    if code is None or str(code).strip() == "":
        return False
    return str(code).strip() in PERMANENT_DELIVERY_ERRORS


def channel_error_from(error: Exception) -> ChannelError:
    """Translate what the SDK raised into a ChannelError that says whether trying again can help."""
    if isinstance(error, requests.ConnectTimeout):
        return ChannelError(f"Twilio could not be reached in time ({error.__class__.__name__})")
    if isinstance(error, requests.Timeout):
        # The request went out and no answer came back: Twilio may well have taken the message.
        return ChannelError(f"Twilio did not answer in time ({error.__class__.__name__})", uncertain=True)
    if isinstance(error, requests.ConnectionError) and not _never_connected(error):
        return ChannelError(f"Twilio dropped the connection ({error.__class__.__name__})", uncertain=True)
    if isinstance(error, requests.RequestException):
        return ChannelError(f"Twilio could not be reached ({error.__class__.__name__})", permanent=False)
    status = getattr(error, "status", None)
    code = getattr(error, "code", None)
    code = int(code) if isinstance(code, str) and code.strip().isdigit() else code
    if isinstance(error, TwilioException) and isinstance(status, int):
        text = f"Twilio answered HTTP {status}" + (f", error {code}" if code and code != status else "")
        detail = getattr(error, "msg", None) or getattr(error, "detail", None)
        if detail:
            text += f": {detail}"
        if code in PERMANENT_SEND_ERRORS:
            return ChannelError(text, permanent=True)
        if status == 429 or status >= 500 or status == 401 or code in ACCOUNT_ERRORS:
            return ChannelError(text, permanent=False)
        return ChannelError(text, permanent=status >= 400)
    # Anything else (a malformed answer, an SDK-side refusal): not the destination's fault.
    return ChannelError(f"Twilio request failed: {error.__class__.__name__}: {error}", permanent=False)


def _never_connected(error: requests.ConnectionError) -> bool:
    """True when the connection was refused or never set up, so the request cannot have reached Twilio."""
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    cause = error.args[0] if error.args else None
    reason = getattr(cause, "reason", cause)
    return isinstance(reason, (NewConnectionError, NameResolutionError)) or isinstance(cause, NewConnectionError)


class RebasedHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, sending every Twilio API request to `base_url` instead of twilio.com.

    Rewriting the finished URL is robust where the SDK's own region/edge settings are not: those rebuild
    the host name and would mangle a base URL such as http://127.0.0.1:8080.
    """

    def __init__(self, base_url: str, timeout: float):
        super().__init__(timeout=timeout, logger=sdk_log)
        self.base = urlsplit(base_url.rstrip("/"))

    def request(self, method, url, *args, **kwargs):
        return super().request(method, self.rebase(url), *args, **kwargs)

    def rebase(self, url: str) -> str:
        parts = urlsplit(url)
        if not (parts.hostname or "").endswith("twilio.com"):
            return url
        return urlunsplit((self.base.scheme, self.base.netloc, self.base.path + parts.path, parts.query, ""))


def read_environment_once(http_client: TwilioHttpClient, base_url: str) -> None:
    """Read the proxy and CA-bundle variables when the client is made, not on every request.

    requests looks them up for each request it sends, scanning the whole process environment twice, which
    was a fifth of a send's CPU: the engine sends hundreds a second. HTTPS_PROXY/NO_PROXY and
    REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE are honoured as before; a change to them takes a restart.
    """
    session = http_client.session
    http_client.proxy = {**requests.utils.get_environ_proxies(base_url), **http_client.proxy}
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


_CLIENTS: OrderedDict[tuple, Client] = OrderedDict()
_CLIENTS_LOCK = threading.Lock()
_MAX_CLIENTS = 8  # one per distinct configuration; tests start many apps, each with its own stand-in


def client_for(config: Mapping) -> Client:
    """A Twilio client for this configuration, reused so its HTTP connections are pooled between sends.

    Keyed by everything that changes where and how it talks, so apps with different settings in one
    process never share a client; the least recently used is forgotten when too many pile up.
    """
    base_url = str(config.get("TWILIO_API_BASE_URL") or DEFAULT_API_BASE_URL).rstrip("/")
    timeout = float(config.get("TWILIO_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS)
    pool = int(config.get("ENGINE_SEND_CONCURRENCY") or 10)
    key = (config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], base_url, timeout, pool)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is not None:
            _CLIENTS.move_to_end(key)
            return client
        http_client = (TwilioHttpClient(timeout=timeout, logger=sdk_log) if base_url == DEFAULT_API_BASE_URL
                       else RebasedHttpClient(base_url, timeout))
        # One kept-alive connection per concurrent send: requests' default pool of 10 would open and throw
        # away a connection for every send beyond the tenth.
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(pool, 10))
        for scheme in ("https://", "http://"):
            http_client.session.mount(scheme, adapter)
        read_environment_once(http_client, base_url)
        client = Client(key[0], key[1], http_client=http_client)
        _CLIENTS[key] = client
        # An evicted client is not closed here: another thread may be sending with it right now.
        while len(_CLIENTS) > _MAX_CLIENTS:
            _CLIENTS.popitem(last=False)
        return client
