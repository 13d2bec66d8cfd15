"""Writing runbook files for tests, and the records the route walk needs."""
from __future__ import annotations

import os
from pathlib import Path

from flask import current_app

from app.runbooks.runs import finish_run, mark_step
from app.runbooks.services import start_run_for
from app.runbooks.sync import sync_runbooks

STEPS = "# Steps\n\n1. Check the job's log\n2. Restart the job\n3. Watch the next run\n"


def front(**fields) -> str:
    lines = ["---"]
    for name, value in fields.items():
        if isinstance(value, list):
            value = "[" + ", ".join(f'"{item}"' for item in value) + "]"
        lines.append(f"{name}: {value}")
    return "\n".join(lines + ["---", ""])


def write(folder: Path, name: str, body: str = STEPS, **fields) -> Path:
    """A runbook file `name` in `folder` with front matter `fields` (title, owner, review_every by default)."""
    fields.setdefault("title", name.removesuffix(".md").replace("-", " ").title())
    fields.setdefault("review_every", "90d")
    path = folder / name
    path.write_text(front(**fields) + body, encoding="utf-8")
    bump(path)
    return path


def bump(path: Path) -> None:
    """Move the file's modification time forward, so a rewrite within the same clock tick is noticed."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def table_of_contents(folder: Path, *names: str) -> None:
    (folder / "README.md").write_text("# Runbooks\n\n" + "".join(f"- [{n}]({n})\n" for n in names), encoding="utf-8")


def make_job(app_name: str, name: str, criticality: str = "critical"):
    """A watched app (made once) and a job of it, through the watch list's services."""
    from app.watchlist import services

    app = services.find_app_by_name(app_name) or services.save_app(None, name=app_name, criticality=criticality)
    return services.save_job(None, app_id=app.id, name=name, criticality=criticality, schedule_kind="interval",
                             interval_minutes=60, grace_minutes=15, max_duration_minutes=30)


def walk_runbook_values(owner, tmp_folder: Path) -> dict[str, object]:
    """A runbook owned by `owner` in a folder of its own, and an open run of it."""
    current_app.config["RUNBOOKS_DIR"] = str(tmp_folder)
    write(tmp_folder, "walk-runbook.md", owner=owner.email, acknowledge=["responder"])
    table_of_contents(tmp_folder, "walk-runbook.md")
    sync_runbooks()
    run = start_run_for("walk-runbook", by=owner)
    return {"slug": "walk-runbook", "run_id": run.id, "position": 1}


def run_through(slug: str, by, marks: list[str], outcome: str, note: str = "", **links):
    """A run of `slug` with each step marked in order, then finished."""
    run = start_run_for(slug, by=by, **links)
    for position, mark in enumerate(marks, start=1):
        mark_step(run, position=position, outcome=mark, by=by)
    return finish_run(run, outcome=outcome, note=note, by=by)
