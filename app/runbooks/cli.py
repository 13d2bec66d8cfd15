"""`flask runbooks sync` (index RUNBOOKS_DIR now) and `flask runbooks check` (sync, print the catalog report,
exit 1 when a runbook is invalid, a link is broken or a review is overdue: for the CI of an SOP repository)."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.audit.recorder import acting_as
from app.runbooks.report import Report, build_report
from app.runbooks.sync import sync_runbooks

runbooks_cli = AppGroup("runbooks", help="The runbook catalog in RUNBOOKS_DIR.")


@runbooks_cli.command("sync")
def sync_command() -> None:
    """Read RUNBOOKS_DIR into the index now."""
    with acting_as("cli"):
        summary = sync_runbooks()
    if summary.problems:
        raise click.ClickException("; ".join(summary.problems))
    click.echo("Runbooks indexed: " + ", ".join(f"{count} {name}" for name, count in summary.as_dict().items()))


def _lines(report: Report) -> list[str]:
    lines = [f"Runbook report for {report.quarter.label}: {len(report.entries)} runbook(s)"]

    def section(name: str, items: list[str]) -> None:
        lines.append(f"\n{name} ({len(items)})")
        lines.extend(f"  - {item}" for item in items) if items else lines.append("  none")

    section("invalid", [f"{e.runbook.path}" + (f":{e.runbook.invalid_line}" if e.runbook.invalid_line else "")
                        + f": {e.runbook.invalid_reason}" for e in report.invalid])
    section("broken_links", [f"{b.source}:{b.line}: {b.target}" for b in report.broken_links])
    section("review_overdue", [f"{e.runbook.path}: due {e.next_review_on} (owner {e.runbook.owner_email})"
                               for e in report.review_overdue])
    section("unlisted", [f"{e.runbook.path}: not linked from README.md" for e in report.unlisted])
    section("undocumented", [f"{u.kind}: {u.name}" for u in report.undocumented])
    section("error_rate", [f"{e.runbook.path}: {e.stats.percent}% of {e.stats.runs} run(s)"
                           + (f", fails most at '{e.stats.failing_step}'" if e.stats.failing_step else "")
                           + (" (needs review)" if "needs_review" in e.flags else "") for e in report.error_rate])
    section("orphaned", [f"{e.runbook.path}: owner {e.runbook.owner_email} is not an active user"
                         for e in report.orphaned])
    section("duplicate_titles", [f"'{title}': " + ", ".join(e.runbook.path for e in group)
                                 for title, group in report.duplicate_titles])
    return lines


@runbooks_cli.command("check")
def check_command() -> None:
    """Sync, print the report; exit 1 when anything is invalid, broken or overdue."""
    with acting_as("cli"):
        summary = sync_runbooks()
    if summary.problems:
        raise click.ClickException("; ".join(summary.problems))
    report = build_report()
    click.echo("\n".join(_lines(report)))
    if report.failing:
        click.echo("\nFAILED: fix the invalid files, broken links and overdue reviews above.", err=True)
        sys.exit(1)
    click.echo("\nOK")
