"""Finding and reading runbooks, and what other domains call: the runbooks for their records, and runs for them.

A runbook is found by its slug in the index, never by a path from the request: the slug must look like one
(`[a-z0-9][a-z0-9_-]*`), so `..`, `/`, an encoded slash or a NUL can only be a 404. Its text is then read from
the file the index names, resolved and checked to lie inside RUNBOOKS_DIR.

For other domains (incidents, alerting, the watch list, DR tests):
- `runbooks_for(job=..., app_name=..., dedup_key=..., vendor=..., dr_template=...)` and `runbooks_for_many(...)`
  (app.runbooks.matching) list the runbooks that apply;
- `start_run_for(slug, by=..., alert_id=..., job_id=..., incident_id=...)` opens a run linked to them, and
  `runs.add_run_listener(fn)` lets a domain hear about runs (an incident's timeline).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select

from app.auth.roles import Role
from app.errors import NotFound
from app.extensions import db
from app.markdown import Document, parse_document
from app.runbooks import files
from app.runbooks.files import FileProblem
from app.runbooks.matching import runbooks_for, runbooks_for_many  # noqa: F401  (part of this module's API)
from app.runbooks.models import Runbook, RunbookRun
from app.runbooks.runs import start_run

RUNNERS = frozenset({Role.ADMIN, Role.CRISIS_TEAM, Role.RESPONDER})  # who runs runbooks: as who acts on alerts


def get_runbook(slug: str) -> Runbook:
    """The present runbook with this slug; NotFound for anything else, including slugs that are not slugs."""
    if not isinstance(slug, str) or not files.is_valid_slug(slug):
        raise NotFound("No such runbook.")
    runbook = db.session.scalar(select(Runbook).where(Runbook.slug == slug, Runbook.removed_at.is_(None)))
    if runbook is None:
        raise NotFound("No such runbook.")
    return runbook


@dataclass
class Reading:
    """A runbook as it is on file right now."""

    runbook: Runbook
    document: Document | None
    content_hash: str
    problem: str | None = None  # why the file is not a valid runbook
    raw_text: str = ""  # a file whose front matter cannot be read is shown as typed

    @property
    def changed_since_index(self) -> bool:
        return bool(self.content_hash) and self.content_hash != self.runbook.content_hash


def _link_rewriter(runbook: Runbook):
    """Relative links to other files of the folder open those runbooks' pages in Quarterdeck."""
    slugs = dict(db.session.execute(select(Runbook.path, Runbook.slug).where(Runbook.removed_at.is_(None))).all())

    def rewrite(href: str) -> str:
        target = files.local_target(runbook.path, href)
        if target is None or target not in slugs or slugs[target].startswith("~"):
            return href
        anchor = href.split("#", 1)[1] if "#" in href else None
        return url_for("runbooks.show", slug=slugs[target], _anchor=anchor)

    return rewrite


def read_runbook(runbook: Runbook) -> Reading:
    """Read and render the runbook's file now; a file that cannot be read says why instead of failing."""
    try:
        data = files.read_bytes(files.root(), runbook.path)
    except (FileProblem, OSError) as error:
        return Reading(runbook, None, "", getattr(error, "reason", "the file cannot be read"))
    parsed = files.parse_file(data)
    if parsed.problem is not None and not parsed.body:
        try:
            raw = files.decode(data)
        except FileProblem:
            raw = ""
        return Reading(runbook, None, parsed.content_hash, parsed.problem.reason, raw_text=raw)
    # heading_offset=1: the page has its own <h1> (the title); the file's "# ..." becomes an <h2>.
    return Reading(runbook, parse_document(parsed.body, rewrite_link=_link_rewriter(runbook), heading_offset=1),
                   parsed.content_hash,
                   parsed.problem.reason if parsed.problem else None)


def start_run_for(slug: str, *, by, alert_id: int | None = None, job_id: int | None = None,
                  incident_id: int | None = None) -> RunbookRun:
    """Open a run of the runbook's current file, linked to an alert, a job or an incident; commits."""
    runbook = get_runbook(slug)
    reading = read_runbook(runbook)
    steps = [step.title for step in reading.document.steps] if reading.document else []
    return start_run(runbook, by=by, step_titles=steps, content_hash=reading.content_hash or runbook.content_hash,
                     alert_id=alert_id, job_id=job_id, incident_id=incident_id)


