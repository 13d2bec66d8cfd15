"""The minutes of a review as Markdown: when, who attended, the summary, and each agenda item's decision."""
from __future__ import annotations

from app.reviews.agenda import REASONS
from app.reviews.models import ReviewItem, ReviewMessage, RiskReview
from app.timeutil import format_in_zone


def _cell(text: str | None) -> str:
    """Text that cannot break a Markdown table row."""
    return " ".join((text or "").replace("|", "\\|").split()) or "—"


def _when(value, zone: str) -> str:
    return format_in_zone(value, zone, "%Y-%m-%d %H:%M %Z") if value else "—"


def minutes_markdown(review: RiskReview, items: list[ReviewItem], messages: list[ReviewMessage], zone: str) -> str:
    """The review's minutes; times in `zone`."""
    lines = [f"# Weekly risk review {review.week_key}", "",
             f"- Meeting: {review.meeting_on.isoformat()} (started {_when(review.started_at, zone)}, "
             f"finished {_when(review.finished_at, zone)})",
             f"- Status: {review.status.label}",
             f"- Chair: {review.chaired_by.name if review.chaired_by else '—'}",
             f"- Attended: {', '.join(a.name for a in review.attendees) or '—'}",
             f"- Agenda covers changes since {_when(review.since, zone)}", ""]
    if review.summary:
        lines += ["## Summary", "", review.summary.strip(), ""]
    decided = [item for item in items if item.decided]
    lines += ["## Decisions", ""]
    if decided:
        lines += ["| Risk | Level then | Why on the agenda | Decision | Outcome | Note | By |",
                  "|---|---|---|---|---|---|---|"]
        for item in decided:
            snap = item.snapshot
            for decision in item.decisions:  # one row per decision: an item can take several
                lines.append("| " + " | ".join(_cell(text) for text in (
                    f"{snap['reference']} {snap['title']}", f"{snap['level']} ({snap['likelihood']}×{snap['impact']})",
                    "; ".join(REASONS.get(reason, reason) for reason in item.reasons), decision.label,
                    decision.outcome, decision.note, decision.decided_by_name)) + " |")
    else:
        lines.append("No decisions recorded.")
    skipped = [item for item in items if not item.decided]
    if skipped:
        lines += ["", "## Not discussed", ""]
        lines += [f"- {item.snapshot['reference']} {item.snapshot['title']}" for item in skipped]
    reminders = [message for message in messages if message.purpose == "reminder"]
    if reminders:
        lines += ["", "## Reminders of overdue actions", ""]
        lines += [f"- {m.name}: {m.outcome}{' — ' + m.outcome_error if m.outcome_error else ''}" for m in reminders]
    return "\n".join(lines) + "\n"
