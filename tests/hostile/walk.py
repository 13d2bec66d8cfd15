"""The hostile walk: every route of the URL map, with hostile values in its path, query, form fields and JSON body.

Routes come from the URL map, form fields from the forms the app itself renders (read from each page the
identity can open) and from the WTForms classes, query parameters from the page's GET forms and the OpenAPI
document, JSON bodies from the OpenAPI document. A route added later is walked without touching this file.

What counts as a failure: any 5xx, and any refused request (4xx) that still committed a write (a partial write).
"""
from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

from flask import Flask
from sqlalchemy import event
from werkzeug.routing import Rule

from app.access import PUBLIC, declared_access
from app.api.openapi import build_document
from app.auth.roles import Role
from app.extensions import db

ANONYMOUS = "anonymous"
IDENTITIES = (ANONYMOUS, *(role.value for role in Role))
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Signing out ends the walker's session; the walk would go on anonymous.
SKIPPED_ENDPOINTS = {"static", "auth.logout", "auth.logout_everywhere"}

HUGE_IDS = ("2147483648", "9223372036854775808", "1" + "0" * 30)
# Sent as raw bytes so a lone surrogate (CESU-8) and a NUL reach the parser the way an attacker sends them.
HOSTILE_TEXTS = {
    "nul": "a\x00b",
    "surrogate": "\ud800x",
    "10kB": "x" * 10_240,
    "huge-int": HUGE_IDS[1],
    "huge-int32": HUGE_IDS[0],
    "negative-huge": "-" + HUGE_IDS[2],
}
PATH_TEXTS = {"nul": "a%00b", "surrogate": "%ED%A0%80x", "10kB": "x" * 10_240}
DEEP_JSON = "[" * 5000 + "]" * 5000
# Tables a refused request may still write: bookkeeping of who authenticated, not a half-done change.
BOOKKEEPING_TABLES = {"api_tokens"}
# /healthz answers 503 when the scheduler's heartbeat is stale: a statement about the system, not a failure.
UNHEALTHY_ANSWERS = {"home.healthz"}
COMMON_QUERY = ("page", "per_page", "q", "id", "sort", "status")


def form_bytes(value: str) -> bytes:
    """What a client that does not check its text would send: UTF-8 with surrogates passed through."""
    return value.encode("utf-8", "surrogatepass")


@dataclass
class Finding:
    identity: str
    method: str
    url: str
    endpoint: str
    status: int
    what: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.identity} {self.method} {self.url[:120]} ({self.endpoint}) -> {self.status}: {self.what} " \
               f"{self.detail}".rstrip()


@dataclass
class WalkReport:
    requests: int = 0
    server_errors: list[Finding] = field(default_factory=list)
    partial_writes: list[Finding] = field(default_factory=list)

    def distinct_server_errors(self) -> set[tuple[str, str, str]]:
        return {(f.endpoint, f.method, f.detail) for f in self.server_errors}

    def add(self, other: "WalkReport") -> None:
        self.requests += other.requests
        self.server_errors += other.server_errors
        self.partial_writes += other.partial_writes


class _FormParser(HTMLParser):
    """Collect each <form>'s action, method and the names of its fields."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._current = {"action": attributes.get("action") or "", "method": (attributes.get("method") or "get")
                             .lower(), "fields": set()}
            self.forms.append(self._current)
        elif tag in {"input", "select", "textarea"} and self._current is not None:
            name = attributes.get("name")
            if name and name != "csrf_token" and attributes.get("type") not in {"submit", "file"}:
                self._current["fields"].add(name)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def page_forms(html: str, page_path: str) -> list[dict]:
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        form["action"] = urlsplit(form["action"]).path or page_path
    return parser.forms


def wtforms_field_names() -> dict[str, set[str]]:
    """The field names of the WTForms classes of each package (app.risks, ...), for routes no page links a form
    to: such a route most likely reads a form of its own domain."""
    from flask_wtf import FlaskForm

    names: dict[str, set[str]] = defaultdict(set)
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form_class = pending.pop()
        pending.extend(form_class.__subclasses__())
        names[_package(form_class.__module__)] |= {
            name for name, value in vars(form_class).items()
            if name != "csrf_token" and (hasattr(value, "field_class") or type(value).__name__ == "UnboundField")}
    return names


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def fill(rule: Rule, values: dict[str, object], override: dict[str, str] | None = None) -> str:
    values = {**values, **(override or {})}
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def int_arguments(rule: Rule) -> list[str]:
    return [name for name, converter in rule._converters.items() if type(converter).__name__.endswith("IntegerConverter")
            or getattr(converter, "num_convert", None) is int]


class WriteWatcher:
    """Record which tables each request committed writes to (INSERT, UPDATE, DELETE followed by COMMIT)."""

    WRITE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)

    def __init__(self, engine):
        self.engine, self.pending, self.committed = engine, set(), set()

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        match = self.WRITE.match(statement)
        if match:
            self.pending.add(match.group(1).lower())

    def _commit(self, conn):
        self.committed |= self.pending
        self.pending = set()

    def _rollback(self, conn):
        self.pending = set()

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        event.listen(self.engine, "rollback", self._rollback)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)

    def take(self) -> set[str]:
        written, self.committed, self.pending = self.committed, set(), set()
        return written - BOOKKEEPING_TABLES


class ErrorLog(logging.Handler):
    """Keep the exception type and the innermost app frame of each logged server error."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.last = ""

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            tb, where = record.exc_info[2], ""
            while tb is not None:
                filename = tb.tb_frame.f_code.co_filename
                if "/app/" in filename:
                    where = f"{filename.rsplit('/app/', 1)[1]}:{tb.tb_lineno}"
                tb = tb.tb_next
            self.last = f"{type(error).__name__} at app/{where}"


@contextmanager
def capture_server_errors(handler: ErrorLog):
    """Route the app's "unhandled error" log records to `handler` only (no tracebacks on the console)."""
    logger = logging.getLogger("quarterdeck.web")
    saved = logger.level, logger.propagate
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


@dataclass
class Identity:
    """How one identity sends requests: a page client (session cookie, CSRF token) and an API opener."""

    name: str
    page: Callable  # (url, method, **kw) -> response
    api: Callable
    csrf_token: str | None


class HostileWalk:
    def __init__(self, app: Flask, url_values: dict[str, object], identities: Iterable[Identity],
                 texts: dict[str, str] | None = None, allowed_only: bool = True, sample: int | None = None,
                 huge_ids: tuple[str, ...] = HUGE_IDS):
        """`sample`: send only that many of the hostile texts to each route, rotating through them from route to
        route (every text still reaches many routes); None sends them all."""
        self.app, self.values, self.identities = app, url_values, list(identities)
        self.texts = texts or HOSTILE_TEXTS
        self.allowed_only = allowed_only
        self.sample, self.huge_ids, self._turn = sample, huge_ids, 0
        self.document = build_document(app)
        self.form_fields = wtforms_field_names()
        self.log = ErrorLog()

    # --- discovery ---------------------------------------------------------------------------------------------

    def rules(self) -> list[Rule]:
        return sorted((rule for rule in self.app.url_map.iter_rules() if rule.endpoint not in SKIPPED_ENDPOINTS),
                      key=lambda rule: (rule.rule, rule.endpoint))

    def may_call(self, identity: str, rule: Rule) -> bool:
        allowed = declared_access(self.app, rule.endpoint)
        if allowed == PUBLIC:
            return True
        if identity == ANONYMOUS:
            return False
        return Role(identity) in allowed

    def openapi_operation(self, rule: Rule, method: str) -> dict:
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        return self.document["paths"].get(path, {}).get(method.lower(), {})

    def texts_for_route(self) -> list[tuple[str, str]]:
        items = list(self.texts.items())
        if self.sample is None or self.sample >= len(items):
            return items
        self._turn += 1
        return [items[(self._turn + offset) % len(items)] for offset in range(self.sample)]

    def path_texts(self) -> list[tuple[str, str]]:
        items = list(PATH_TEXTS.items())
        return items if self.sample is None else [items[self._turn % len(items)]]

    # --- requests ------------------------------------------------------------------------------------------------

    def _send(self, report: WalkReport, watcher: WriteWatcher, who: Identity, rule: Rule, method: str, url: str,
              what: str, **kw) -> object:
        opener = who.api if rule.rule.startswith("/api/") else who.page
        self.log.last = ""
        watcher.take()
        response = opener(url, method=method, **kw)
        report.requests += 1
        written = watcher.take()
        status = response.status_code
        if status >= 500 and not (rule.endpoint in UNHEALTHY_ANSWERS and status == 503):
            report.server_errors.append(Finding(who.name, method, url, rule.endpoint, status, what, self.log.last))
        elif status >= 400 and written:
            report.partial_writes.append(Finding(who.name, method, url, rule.endpoint, status, what,
                                                 f"wrote {sorted(written)}"))
        return response

    def walk(self) -> WalkReport:
        report = WalkReport()
        with capture_server_errors(self.log):
            with WriteWatcher(db.engine) as watcher:
                for who in self.identities:
                    self._walk_identity(report, watcher, who)
        return report

    def _walk_identity(self, report: WalkReport, watcher: WriteWatcher, who: Identity) -> None:
        rules = [rule for rule in self.rules() if not self.allowed_only or self.may_call(who.name, rule)]
        forms: dict[str, set[str]] = defaultdict(set)
        queries: dict[str, set[str]] = defaultdict(set)
        for rule in rules:  # GET every page first: it reads the forms the identity is shown
            if "GET" not in rule.methods:
                continue
            url = fill(rule, self.values)
            response = self._send(report, watcher, who, rule, "GET", url, "plain GET")
            if response.mimetype == "text/html" and response.status_code == 200:
                for form in page_forms(response.get_data(as_text=True), urlsplit(url).path):
                    (queries if form["method"] == "get" else forms)[form["action"]] |= form["fields"]
        calls = [(rule, method) for rule in rules for method in sorted(rule.methods - IGNORED_METHODS)]
        calls.sort(key=lambda call: (call[1] == "DELETE", call[1] != "GET", call[0].rule))
        for rule, method in calls:
            url = fill(rule, self.values)
            texts = self.texts_for_route()
            for name in int_arguments(rule):
                for huge in self.huge_ids:
                    self._call(report, watcher, who, rule, method, fill(rule, self.values, {name: huge}),
                               f"path {name}={huge[:12]}", {}, forms)
            for name, converter in rule._converters.items():
                if name not in int_arguments(rule) and type(converter).__name__ != "UUIDConverter":
                    for label, text in self.path_texts():
                        self._call(report, watcher, who, rule, method, fill(rule, self.values, {name: text}),
                                   f"path {name} {label}", {}, forms)
            if method == "GET":
                names = queries.get(urlsplit(url).path, set()) | set(COMMON_QUERY) | {
                    p["name"] for p in self.openapi_operation(rule, method).get("parameters", []) if p["in"] == "query"}
                for label, text in texts:
                    query = urlencode({name: form_bytes(text) for name in sorted(names)})
                    self._send(report, watcher, who, rule, method, f"{url}?{query}", f"query {label}")
            else:
                for label, text in texts:
                    self._call(report, watcher, who, rule, method, url, f"body {label}", {"text": text}, forms)
                if rule.rule.startswith("/api/"):
                    self._send(report, watcher, who, rule, method, url, "deep JSON", data=DEEP_JSON,
                               content_type="application/json")

    def _call(self, report, watcher, who: Identity, rule: Rule, method: str, url: str, what: str, body: dict,
              forms: dict[str, set[str]]) -> None:
        """One request with the hostile text (if any) in every field the route's form or JSON body has."""
        text = body.get("text")
        if method == "GET":
            self._send(report, watcher, who, rule, method, url, what)
            return
        path = urlsplit(url).path
        if rule.rule.startswith("/api/"):
            schema = self.openapi_operation(rule, method).get("requestBody", {}).get("content", {}) \
                .get("application/json", {}).get("schema", {})
            names = set(schema.get("properties", {})) or {"name"}
            payload = {} if text is None else {name: _json_value(text) for name in sorted(names)}
            self._send(report, watcher, who, rule, method, url, what,
                       data=json.dumps(payload), content_type="application/json")
            return
        view = self.app.view_functions[rule.endpoint]
        names = forms.get(path) or self.form_fields.get(_package(view.__module__)) or {"name", "text"}
        data = {} if text is None else {name: form_bytes(text) for name in sorted(names)}
        if who.csrf_token:
            data["csrf_token"] = who.csrf_token
        self._send(report, watcher, who, rule, method, url, what, data=data)


def _json_value(text: str) -> object:
    """Huge integers go as JSON numbers, the rest as strings (json.dumps escapes a lone surrogate as \\ud800)."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text
