"""Reading RUNBOOKS_DIR safely: which files are runbooks, their slugs, their front matter, their links.

Nothing here touches the database. Every path is resolved and checked to lie inside the folder before it is
read, so neither a crafted slug nor a symbolic link can make Quarterdeck read a file outside it.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

import yaml
from flask import current_app

MAX_BYTES = 512 * 1024  # a runbook is read by a person at 3 a.m.; anything bigger is not one
TOC_NAME = "README.md"
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,119}")
# Page names under /runbooks/ that a file's slug must not shadow.
RESERVED_SLUGS = frozenset({"report", "reading", "settings", "runs", "sync", "new"})
LIST_FIELDS = ("systems", "jobs", "alerts", "vendors", "drtests", "tags", "acknowledge")
TEXT_FIELDS = ("title", "owner", "review_every", "version", "severity")
SEVERITIES = ("critical", "high", "medium", "low")
CADENCES = {"weekly": 7, "fortnightly": 14, "monthly": 30, "quarterly": 91, "half-yearly": 182, "yearly": 365,
            "annually": 365}
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


class FileProblem(Exception):
    """A file cannot be used as a runbook; `line` is the line of the file at fault, when known."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the folder, "/" separated
    mtime_ns: int
    size: int
    outside: bool = False  # a symbolic link leaving the folder: listed, never read


@dataclass
class ParsedFile:
    content_hash: str
    front_matter: dict[str, Any] | None = None  # checked and normalised; None when the file is invalid
    title: str = ""
    body: str = ""
    body_line: int = 1  # the line of the file the body starts on
    problem: FileProblem | None = None
    lines: dict[str, int] = field(default_factory=dict)  # front-matter key -> line of the file


def root() -> Path:
    return Path(current_app.config["RUNBOOKS_DIR"]).resolve()


def slug_for(relative: str) -> str:
    """`billing/Restart batch.md` -> `billing-restart-batch`: lower case, one level, no dots or slashes."""
    stem = relative[:-3] if relative.lower().endswith(".md") else relative
    return re.sub(r"[^a-z0-9_]+", "-", stem.lower()).strip("-")[:120]


def is_valid_slug(slug: str) -> bool:
    return bool(SLUG.fullmatch(slug or "")) and slug not in RESERVED_SLUGS


def inside(folder: Path, candidate: Path) -> bool:
    try:
        candidate.resolve().relative_to(folder)
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symbolic link loop
        return False
    return True


def list_files(folder: Path) -> list[SourceFile]:
    """Every *.md file under `folder` except the table of contents, sorted; links leaving it are marked."""
    found = []
    for directory, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        for name in sorted(filenames):
            if not name.lower().endswith(".md") or name.startswith(".") or name == TOC_NAME:
                continue
            path = Path(directory) / name
            relative = path.relative_to(folder).as_posix()
            if not inside(folder, path):
                found.append(SourceFile(relative, 0, 0, outside=True))
                continue
            stat = path.stat()
            found.append(SourceFile(relative, stat.st_mtime_ns, stat.st_size))
    return found


def read_bytes(folder: Path, relative: str) -> bytes:
    """The file's bytes, only when it lies inside `folder` (after resolving links) and is small enough."""
    path = folder / relative
    if not inside(folder, path):
        raise FileProblem("a link to a file outside RUNBOOKS_DIR: not followed")
    if not path.is_file():
        raise FileProblem("the file is gone")
    if path.stat().st_size > MAX_BYTES:
        raise FileProblem(f"larger than {MAX_BYTES // 1024} kB")
    return path.read_bytes()


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise FileProblem(f"not UTF-8 text (byte {error.start} cannot be read)", line) from None


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _key_lines(lines: list[str]) -> dict[str, int]:
    found = {}
    for number, line in enumerate(lines, start=2):  # line 1 is the opening ---
        match = re.match(r"([A-Za-z_][\w-]*)\s*:", line)
        if match:
            found.setdefault(match.group(1), number)
    return found


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int, dict[str, int]]:
    """(front matter, body, line the body starts on, key -> line); FileProblem when there is none or it is bad."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise FileProblem("no front matter: the file must start with a line '---'", 1)
    end = next((index for index in range(1, len(lines)) if lines[index].strip() in ("---", "...")), None)
    if end is None:
        raise FileProblem("the front matter is not closed by a line '---'", len(lines))
    block = "\n".join(lines[1:end])
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "cannot be read"
        raise FileProblem(f"front matter is not valid YAML: {problem}",
                          mark.line + 2 if mark is not None else None) from None
    if not isinstance(data, dict):
        raise FileProblem("front matter must be a set of 'key: value' lines", 2)
    return data, "\n".join(lines[end + 1:]), end + 2, _key_lines(lines[1:end])


def clean_front_matter(data: dict[str, Any], lines: dict[str, int]) -> dict[str, Any]:
    """Front matter with known fields checked and normalised (lists of strings, a lower-case owner)."""
    clean: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, (dict, list)):
            raise FileProblem(f"'{name}' must be a single value", lines.get(name))
        clean[name] = str(value).strip()[:200]
    for name in LIST_FIELDS:
        value = data.get(name)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, (dict, list)) for item in items):
            raise FileProblem(f"'{name}' must be a list of names", lines.get(name))
        clean[name] = [str(item).strip()[:200] for item in items if str(item).strip()][:100]
    if not clean.get("title"):
        raise FileProblem("'title' is missing", lines.get("title", 1))
    if not clean.get("owner") or "@" not in clean["owner"]:
        raise FileProblem("'owner' must be the email address of a Quarterdeck user", lines.get("owner", 1))
    clean["owner"] = clean["owner"].lower()
    if review_days(clean.get("review_every")) is None:
        raise FileProblem("'review_every' must be a number of days such as 90d, or weekly, monthly, quarterly, "
                          "yearly", lines.get("review_every", 1))
    if clean.get("severity") and clean["severity"].lower() not in SEVERITIES:
        raise FileProblem(f"'severity' must be one of {', '.join(SEVERITIES)}", lines.get("severity"))
    reviewed = data.get("reviewed")
    if reviewed is not None:
        if not isinstance(reviewed, date):
            try:
                reviewed = date.fromisoformat(str(reviewed).strip())
            except ValueError:
                raise FileProblem("'reviewed' must be a date such as 2026-10-15", lines.get("reviewed")) from None
        clean["reviewed"] = reviewed.isoformat()
    return clean


def review_days(value: str | None) -> int | None:
    """"90d" -> 90, "12w" -> 84, "quarterly" -> 91; None when it cannot be read (or is out of 1..1000 days)."""
    text = (value or "").strip().lower()
    if text in CADENCES:
        return CADENCES[text]
    match = re.fullmatch(r"(\d{1,4})\s*(d|days?|w|weeks?)", text)
    if not match:
        return None
    days = int(match.group(1)) * (7 if match.group(2).startswith("w") else 1)
    return days if 1 <= days <= 1000 else None


def parse_file(data: bytes) -> ParsedFile:
    """The file's hash and front matter, or the problem that makes it invalid (never raises)."""
    parsed = ParsedFile(content_hash=content_hash(data))
    try:
        text = decode(data)
        front, parsed.body, parsed.body_line, parsed.lines = split_front_matter(text)
        parsed.title = str(front.get("title") or "").strip()[:200]
        parsed.front_matter = clean_front_matter(front, parsed.lines)
    except FileProblem as problem:
        parsed.problem = problem
    return parsed


def local_target(source: str, href: str) -> str | None:
    """The folder-relative file a link in `source` points at, or None for web links, anchors and app paths.

    A target that climbs out of the folder is returned as "../..." so that it is reported, never read.
    """
    href = href.strip()
    if not href or href.startswith(("#", "/")) or SCHEME.match(href):
        return None
    target = unquote(href.split("#", 1)[0].split("?", 1)[0])
    if not target:
        return None
    joined = os.path.normpath(str(PurePosixPath(source).parent / target)).replace(os.sep, "/")
    return joined
