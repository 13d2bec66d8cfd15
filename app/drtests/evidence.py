"""Evidence for a step: an uploaded file (size and type limited, kept under the instance folder) or a link."""
from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app

from app.auth.models import User
from app.drtests.exercises import check_can_execute, check_not_frozen
from app.drtests.models import Evidence, ExerciseStep
from app.links import clean_link
from app.errors import Invalid, NotFound
from app.extensions import db

# Screenshots, exports and logs; nothing a browser would run when opened.
ALLOWED_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".pdf": "application/pdf",
    ".txt": "text/plain", ".log": "text/plain", ".csv": "text/csv", ".json": "application/json",
}
# The first bytes of each binary type: a renamed executable is refused, not stored.
SIGNATURES = {".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8",), ".jpeg": (b"\xff\xd8",),
              ".gif": (b"GIF87a", b"GIF89a"), ".pdf": (b"%PDF",)}


def evidence_folder() -> Path:
    folder = Path(current_app.config["DRTEST_EVIDENCE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def max_bytes() -> int:
    return int(current_app.config["DRTEST_EVIDENCE_MAX_MB"]) * 1024 * 1024


def _clean_filename(filename: str) -> str:
    name = Path((filename or "").replace("\\", "/")).name.strip()
    return "".join(ch for ch in name if ch.isprintable())[:200] or "evidence"


def add_file(step: ExerciseStep, *, user: User, filename: str, data: bytes, label: str = "") -> Evidence:
    """Store the file under a random name after checking its size, extension and first bytes."""
    check_can_execute(step.exercise, user)
    check_not_frozen(step.exercise)
    filename = _clean_filename(filename)
    suffix = Path(filename).suffix.lower()
    if suffix not in ALLOWED_TYPES:
        raise Invalid(f"Files of type {suffix or '(none)'} are not accepted; use "
                      f"{', '.join(sorted(ALLOWED_TYPES))}.", field="file")
    if not data:
        raise Invalid("The file is empty.", field="file")
    if len(data) > max_bytes():
        raise Invalid(f"The file is larger than {current_app.config['DRTEST_EVIDENCE_MAX_MB']} MB.", field="file")
    signatures = SIGNATURES.get(suffix)
    if signatures and not data.startswith(signatures):
        raise Invalid(f"The file's content is not a {suffix} file.", field="file")
    if not signatures and b"\x00" in data[:4096]:
        raise Invalid("A text file cannot hold binary data.", field="file")
    stored = f"{secrets.token_hex(16)}{suffix}"
    (evidence_folder() / stored).write_bytes(data)
    record = Evidence(step_id=step.id, label=(label or "").strip()[:200] or filename, filename=filename,
                      stored_name=stored, content_type=ALLOWED_TYPES[suffix], size=len(data), added_by_id=user.id)
    db.session.add(record)
    db.session.commit()
    return record


def add_link(step: ExerciseStep, *, user: User, url: str, label: str = "") -> Evidence:
    """Record a link (a ticket, a dashboard, a shared document) as evidence."""
    check_can_execute(step.exercise, user)
    check_not_frozen(step.exercise)
    url = clean_link(url, "url", 1000)
    if not url:
        raise Invalid("Give the link: https://… or a path on this site.", field="url")
    record = Evidence(step_id=step.id, label=(label or "").strip()[:200] or url[:200], url=url,
                      added_by_id=user.id)
    db.session.add(record)
    db.session.commit()
    return record


def get_evidence(evidence_id: int) -> Evidence:
    record = db.session.get(Evidence, evidence_id)
    if record is None:
        raise NotFound("No such evidence.")
    return record


def evidence_path(record: Evidence) -> Path:
    if record.stored_name is None:
        raise NotFound("This evidence is a link, not a file.")
    path = evidence_folder() / record.stored_name
    if not path.is_file():
        raise NotFound("The evidence file is missing from the server.")
    return path
