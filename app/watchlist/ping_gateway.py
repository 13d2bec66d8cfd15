"""The ping URLs' front door: a WSGI layer in front of Flask that answers the common ping itself.

Jobs ping far more often than people click, so the usual ping skips everything a page needs: no request
context, session, user loading, CSRF check, template or access hook. This layer throttles every ping URL
(PING_RATE_LIMIT, counted in the same limiter storage as the rest of the app, so a Redis store is shared by
every worker), then writes a plain success of an up job in two statements (`ping_fast`). Everything else —
another signal, a job in another state, a malformed URL or body, a database error — is handed unchanged to the
Flask view (`ping_views.ping`), which owns every rule and every error answer.
"""
from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

from flask import Flask
from limits import parse as parse_limit
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from app.errors import Invalid
from app.extensions import db, limiter
from app.metrics import HTTP_REQUEST_SECONDS, JOB_PINGS
from app.watchlist.models import LOG_MAX
from app.watchlist.ping_fast import PingWriter
from app.watchlist.pings import canonical_key, decode_body, parse_rid

log = logging.getLogger("quarterdeck.watchlist")

PREFIX = "/ping/"
METHODS = ("GET", "HEAD", "POST")
SCOPE = "pings.ping"  # the limiter scope of the ping counts
TEXT_HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff")]


def ping_limit_key(raw_key: str) -> str:
    # One noisy job (a loop gone wrong) is throttled without touching the others.
    return "ping:" + raw_key.lower()


class PingGateway:
    """WSGI middleware: `app.wsgi_app = PingGateway(app, app.wsgi_app)`."""

    def __init__(self, app: Flask, inner: Callable) -> None:
        self.app, self.inner = app, inner
        self.writer = PingWriter()
        self._engine = None  # the app's engine, looked up once: a ping then needs no app context at all
        self._limits: dict[str, object] = {}
        self._fallback = FixedWindowRateLimiter(MemoryStorage())  # while the shared store cannot be reached

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX) or environ.get("REQUEST_METHOD") not in METHODS:
            return self.inner(environ, start_response)
        started = time.perf_counter()
        parts = path[len(PREFIX):].split("/")
        if len(parts) > 2 or not parts[0]:
            return self.inner(environ, start_response)  # not a ping URL: Flask's 404
        if not self._allowed(parts[0]):
            return _answer(start_response, "429 TOO MANY REQUESTS", b"rate limited\n", environ)
        if self._record_fast(environ, parts):
            JOB_PINGS.labels("success").inc()
            HTTP_REQUEST_SECONDS.labels(SCOPE).observe(time.perf_counter() - started)
            return _answer(start_response, "200 OK", b"OK", environ)
        return self.inner(environ, start_response)

    def _allowed(self, raw_key: str) -> bool:
        config = self.app.config
        rate = config["PING_RATE_LIMIT"]
        item = self._limits.get(rate)
        if item is None:
            item = self._limits[rate] = parse_limit(rate)
        identity = (config.get("RATELIMIT_KEY_PREFIX", ""), ping_limit_key(raw_key), SCOPE)
        try:
            return limiter.limiter.hit(item, *identity)
        except Exception:  # a throttle store outage must not stop pings: count in memory meanwhile
            log.warning("ping throttle store unreachable; counting in this process", exc_info=True)
            return self._fallback.hit(item, *identity)

    def _record_fast(self, environ: dict, parts: list[str]) -> bool:
        """True when the ping was a plain success of an up job and is written; False to hand it to Flask."""
        signal = parts[1] if len(parts) == 2 else ""
        key = canonical_key(parts[0])
        if key is None or signal not in ("", "0"):
            return False
        rid = _query_rid(environ.get("QUERY_STRING", ""))
        if rid is False:
            return False
        body = b""
        if environ["REQUEST_METHOD"] == "POST":
            length = environ.get("CONTENT_LENGTH") or ""
            if not length.isdigit() or int(length) > LOG_MAX or environ.get("HTTP_TRANSFER_ENCODING"):
                return False
            body = environ["wsgi.input"].read(int(length)) if int(length) else b""
            environ["wsgi.input"] = io.BytesIO(body)  # Flask can read it again if the ping goes its way
        try:
            tolerance = timedelta(seconds=int(self.app.config["PING_EARLY_TOLERANCE_SECONDS"]))
            return self.writer.record_success(self.engine(), key=key, exit_code=0 if signal == "0" else None,
                                              rid=rid, log=decode_body(body), early_tolerance=tolerance)
        except Exception:  # the full path answers database errors (a 503 with Retry-After)
            log.warning("fast ping write failed; the full path answers", exc_info=True)
            return False

    def engine(self):
        if self._engine is None:
            with self.app.app_context():
                self._engine = db.engine
        return self._engine


def _query_rid(query: str) -> str | None | bool:
    """The rid of the query string (None without one); False when anything else is there or it is malformed."""
    if not query:
        return None
    name, _, value = query.partition("=")
    if name != "rid" or "&" in value or "%" in value:
        return False
    try:
        return parse_rid(value)
    except Invalid:  # the view words the refusal
        return False


def _answer(start_response: Callable, status: str, body: bytes, environ: dict) -> list[bytes]:
    start_response(status, [*TEXT_HEADERS, ("Content-Length", str(len(body)))])
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]
