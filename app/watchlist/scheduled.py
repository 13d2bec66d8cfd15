"""Scheduler jobs of the watch list: the detection pass (every few seconds), run-history pruning and the roll-up
of runs past the retention period into daily rows (hourly)."""
from __future__ import annotations

import logging

from app.watchlist.detection import run_detection_pass
from app.watchlist.history import prune_runs
from app.watchlist.retention import roll_up_old_runs

log = logging.getLogger("quarterdeck.watchlist")

DETECTION_SECONDS = 10


def detect_job_problems() -> dict[str, int]:
    """One detection pass; what it changed and paged is logged (and each change is on its job's timeline)."""
    summary = run_detection_pass()
    if summary:
        log.info("watch list detection: %s", ", ".join(f"{k}={v}" for k, v in sorted(summary.items())))
    if summary.get("page_failed"):
        log.error("watch list detection: %s page(s) failed; retried next minute", summary["page_failed"])
    return summary


def prune_job_runs() -> dict[str, int]:
    """Keep the newest WATCHLIST_RUNS_PER_JOB runs of each job."""
    summary = prune_runs()
    if summary["deleted"]:
        log.info("watch list: pruned %s old runs of %s jobs", summary["deleted"], summary["jobs"])
    return summary


def roll_up_job_runs() -> dict[str, int]:
    """Runs older than WATCHLIST_RUN_RETENTION_DAYS become daily rows, in small batches."""
    summary = roll_up_old_runs()
    if summary["runs"]:
        log.info("watch list: rolled up %s old runs in %s batches", summary["runs"], summary["batches"])
    return summary
