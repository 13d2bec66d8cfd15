"""Indexing RUNBOOKS_DIR: one Runbook row per Markdown file, kept in step with the folder.

A file is read again only when its modification time or size changed, and its row changes only when its
content hash did (so an acknowledgement of the old hash lapses). A file that disappears keeps its row, marked
removed, with its history; a file that reappears under a new name with the same content is taken as renamed.
Front matter that names a user, a job or a rotation is checked against the database on every pass, so a file
turns valid as soon as the user it names is created.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.auth.models import User
from app.auth.roles import Role
from app.extensions import db
from app.oncall.rotations import list_rotations
from app.runbooks import files
from app.runbooks.files import FileProblem, SourceFile
from app.runbooks.matching import job_slugs, pattern_matches
from app.runbooks.models import Runbook
from app.timeutil import utcnow
from app.watchlist.services import list_apps

log = logging.getLogger("quarterdeck.runbooks")


@dataclass
class SyncSummary:
    added: int = 0
    changed: int = 0
    renamed: int = 0
    removed: int = 0
    unchanged: int = 0
    invalid: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in ("added", "changed", "renamed", "removed", "unchanged",
                                                       "invalid")}


class References:
    """What front matter may name, loaded once per pass: users by email, job slugs, roles and rotations."""

    def __init__(self) -> None:
        self.users = {user.email: user for user in db.session.scalars(select(User))}
        self.jobs = {slug for app in list_apps() for job in app.jobs for slug in job_slugs(job)}
        self.readers = {role.value for role in Role} | {rotation.name.lower() for rotation in list_rotations()}

    def problem(self, front: dict) -> tuple[str, str] | None:
        """(front-matter key, reason) of the first name that does not exist, or None."""
        if front["owner"] not in self.users:
            return "owner", f"owner {front['owner']} is not a Quarterdeck user"
        for name in front.get("jobs", []):
            if "*" not in name and not any(pattern_matches(name, slug) for slug in self.jobs):
                return "jobs", f"unknown job '{name}' (a job is named by its slug, e.g. billing-run)"
        for name in front.get("acknowledge", []):
            if name.lower() not in self.readers:
                return "acknowledge", f"'{name}' in acknowledge is neither a role nor a rotation"
        return None


def table_of_contents(folder: Path) -> tuple[set[str], list[dict]]:
    """The files README.md links to, and its links to files that do not exist."""
    readme = folder / files.TOC_NAME
    if not readme.is_file() or not files.inside(folder, readme):
        return set(), []
    from app.markdown import parse_document

    try:
        text = files.decode(files.read_bytes(folder, files.TOC_NAME))
    except FileProblem:
        return set(), []
    listed, broken = set(), []
    for href, line in parse_document(text).links:
        target = files.local_target(files.TOC_NAME, href)
        if target is None:
            continue
        listed.add(target)
        if not _exists(folder, target):
            broken.append({"target": href, "line": line})
    return listed, broken


def _exists(folder: Path, target: str) -> bool:
    if target.startswith("..") or target.startswith("/"):
        return False
    path = folder / target
    return files.inside(folder, path) and path.exists()


def _links_of(relative: str, body: str, body_line: int) -> list[dict]:
    """The file's links to other files of the folder (whether they exist is checked when reported)."""
    from app.markdown import parse_document

    found = []
    for href, line in parse_document(body).links:
        target = files.local_target(relative, href)
        if target is not None:
            found.append({"href": href[:500], "target": target[:500], "line": line + body_line - 1})
    return found[:500]


def broken_links_of(folder: Path, row: Runbook) -> list[dict]:
    """The row's links to files of the folder that do not exist (now)."""
    return [link for link in row.local_links or [] if not _exists(folder, link["target"])]


def _apply_parse(row: Runbook, folder: Path, parsed: files.ParsedFile, refs: References) -> None:
    row.content_hash = parsed.content_hash
    row.front_matter = parsed.front_matter
    row.title = (parsed.front_matter or {}).get("title") or parsed.title or row.path
    row.local_links = _links_of(row.path, parsed.body, parsed.body_line) if parsed.body else []
    if parsed.body:
        from app.markdown import parse_document

        row.step_titles = [step.title for step in parse_document(parsed.body).steps]
    _validate(row, parsed.problem, refs)


def _validate(row: Runbook, problem: FileProblem | None, refs: References) -> None:
    """Set validity, owner and cadence from the stored front matter (or the file's own problem)."""
    front = row.front_matter
    if problem is None and front is not None:
        found = refs.problem(front)
        if found is not None:
            problem = FileProblem(found[1], _line_of(row, found[0]))
    row.valid = problem is None
    row.invalid_reason = problem.reason[:500] if problem else ""
    row.invalid_line = problem.line if problem else None
    owner = refs.users.get(front["owner"]) if front else None
    row.owner_email = front["owner"] if front else ""
    row.owner_id = owner.id if owner is not None else None
    row.review_every_days = files.review_days(front.get("review_every")) if front else None


def _line_of(row: Runbook, key: str) -> int | None:
    """The line of a front-matter key (read from the file again: only for a file with a problem)."""
    try:
        text = files.decode(files.read_bytes(files.root(), row.path))
    except FileProblem:
        return None
    for number, line in enumerate(text.split("\n")[:200], start=1):
        if re.match(rf"{key}\s*:", line):
            return number
    return None


def _mark_outside(row: Runbook) -> None:
    row.valid, row.front_matter, row.owner_id, row.review_every_days = False, None, None, None
    row.invalid_reason, row.invalid_line = "a link to a file outside RUNBOOKS_DIR: not followed", None
    row.content_hash, row.local_links, row.step_titles = "", [], []


def sync_runbooks() -> SyncSummary:
    """Bring the index in step with RUNBOOKS_DIR and commit; returns what changed."""
    folder = files.root()
    summary = SyncSummary()
    if not folder.is_dir():
        log.error("RUNBOOKS_DIR %s is not a folder: the runbook index is left as it was", folder)
        summary.problems.append(f"{folder} is not a folder")
        return summary
    now, refs = utcnow(), References()
    listed, _toc_broken = table_of_contents(folder)
    rows = {row.path: row for row in db.session.scalars(select(Runbook))}
    present = files.list_files(folder)
    present_paths = {source.path for source in present}
    gone = {path: row for path, row in rows.items() if path not in present_paths}
    taken_slugs = {row.slug: row for row in rows.values() if row.path in present_paths}
    for source in present:
        row = rows.get(source.path)
        if row is None:
            row = _new_row(folder, source, gone, taken_slugs, refs, summary, now)
        else:
            _refresh(folder, source, row, refs, summary, now)
        row.listed = source.path in listed
        row.removed_at = None
        row.indexed_at = now
        summary.invalid += 0 if row.valid else 1
    for row in gone.values():
        if row.removed_at is None and row.path not in present_paths:
            row.removed_at = now
            summary.removed += 1
    _revalidate(rows.values(), present_paths, refs)
    db.session.commit()
    log.info("runbooks indexed from %s: %s", folder, summary.as_dict())
    return summary


def _revalidate(rows, present_paths: set[str], refs: References) -> None:
    for row in rows:
        if row.path in present_paths and row.front_matter is not None and row.content_hash:
            _validate(row, None, refs)


def _refresh(folder: Path, source: SourceFile, row: Runbook, refs: References, summary: SyncSummary, now) -> None:
    if source.outside:
        _mark_outside(row)
        summary.unchanged += 1
        return
    if row.removed_at is None and (row.file_mtime_ns, row.file_size) == (source.mtime_ns, source.size):
        summary.unchanged += 1
        return
    parsed = _parse(folder, source.path)
    row.file_mtime_ns, row.file_size = source.mtime_ns, source.size
    if parsed.content_hash == row.content_hash and row.removed_at is None:
        summary.unchanged += 1
        return
    _apply_parse(row, folder, parsed, refs)
    row.changed_at = now
    summary.changed += 1


def _parse(folder: Path, relative: str) -> files.ParsedFile:
    try:
        return files.parse_file(files.read_bytes(folder, relative))
    except FileProblem as problem:
        return files.ParsedFile(content_hash="", problem=problem)


def _new_row(folder: Path, source: SourceFile, gone: dict[str, Runbook], taken: dict[str, Runbook],
             refs: References, summary: SyncSummary, now) -> Runbook:
    """The row of a file not indexed under this path: a renamed one (same content), a revived one (same slug)
    or a new one."""
    slug = files.slug_for(source.path)
    parsed = files.ParsedFile(content_hash="") if source.outside else _parse(folder, source.path)
    renamed = next((row for row in gone.values() if parsed.content_hash and row.content_hash == parsed.content_hash),
                   None)
    row = renamed or gone.get(next((path for path, row in gone.items() if row.slug == slug), ""), None)
    if row is not None:
        gone.pop(row.path, None)
        summary.renamed += 1 if renamed is not None else 0
        summary.added += 0 if renamed is not None else 1
    else:
        row = Runbook(first_seen_at=now)
        db.session.add(row)
        summary.added += 1
    if slug in taken and taken[slug] is not row:
        slug_problem = FileProblem(f"its slug '{slug}' is already used by {taken[slug].path}")
    elif not files.is_valid_slug(slug):
        slug_problem = FileProblem(f"its name gives the slug '{slug}', which is empty or reserved: rename the file")
    else:
        slug_problem = None
    # A slug no URL can reach ("~" is not a slug character) keeps the unique column unique while the file is
    # listed as invalid.
    row.path = source.path
    row.slug = slug if slug_problem is None else f"~{files.content_hash(source.path.encode())[:12]}-{slug}"[:120]
    row.file_mtime_ns, row.file_size, row.changed_at = source.mtime_ns, source.size, now
    taken[row.slug] = row
    if source.outside:
        _mark_outside(row)
        row.title = row.path
        return row
    if slug_problem is not None:
        parsed.problem, parsed.front_matter = slug_problem, None
    _apply_parse(row, folder, parsed, refs)
    return row
