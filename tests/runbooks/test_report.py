"""Every measure of the catalog report, each with a case that raises it and one that does not; `flask runbooks check`."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from app.alerting.services import raise_alert
from app.auth import services as auth
from app.drtests.templates import create_template
from app.extensions import db
from app.runbooks.report import build_report
from app.runbooks.runs import save_settings
from app.runbooks.scheduled import runbook_daily_work
from app.vendors.services import create_vendor
from tests.runbooks.support import make_job, run_through, table_of_contents, write


def slugs(entries) -> list[str]:
    return [entry.slug for entry in entries]


def test_unlisted_is_a_file_the_table_of_contents_does_not_link(folder, owner, sync):
    write(folder, "listed.md", owner=owner.email)
    write(folder, "hidden.md", owner=owner.email)
    table_of_contents(folder, "listed.md")
    sync()
    assert slugs(build_report().unlisted) == ["hidden"]


def test_undocumented_lists_critical_items_no_runbook_covers(folder, owner, sync):
    make_job("Billing", "Billing run")
    make_job("Billing", "Invoice dispatch")
    make_job("CRM", "Opportunity sync", criticality="high")  # not critical: never undocumented
    create_template(name="ERP failover/failback", rto_minutes=120, rpo_minutes=15)
    create_vendor(name="PayStream", tier="critical")
    create_vendor(name="Stationery Co", tier="other")
    raise_alert(summary="Gateway down", source="api", dedup_key="payment-gateway:eu", severity="high")
    db.session.commit()
    write(folder, "billing.md", owner=owner.email, jobs=["billing-run"])
    sync()
    names = {(item.kind, item.name) for item in build_report().undocumented}
    assert names == {("app", "Billing"), ("job", "Invoice dispatch (Billing)"), ("drtest", "ERP failover/failback"),
                     ("vendor", "PayStream"), ("alert", "payment-gateway:eu")}

    write(folder, "all.md", owner=owner.email, systems=["Billing"], alerts=["payment-gateway:*"],
          drtests=["ERP failover*"], vendors=["paystream"])
    sync()
    assert build_report().undocumented == []


def test_error_rate_counts_failed_and_deviating_runs_and_needs_review_past_the_threshold(folder, owner, sync):
    write(folder, "restart.md", owner=owner.email)
    sync()
    run_through("restart", owner, ["done", "done", "done"], "worked")
    run_through("restart", owner, ["done", "failed", "done"], "deviations", note="Had to restart twice")
    [entry] = build_report().error_rate
    assert (entry.stats.runs, entry.stats.percent, entry.stats.failing_step) == (2, 50, "Restart the job")
    assert "needs_review" not in entry.flags  # 50 % but only 2 runs: the default needs at least 3

    run_through("restart", owner, ["done", "done", "done"], "worked")
    [entry] = build_report().error_rate
    assert entry.stats.percent == 33 and "needs_review" in entry.flags

    save_settings(error_rate_percent=40, min_runs=3, by=owner)
    assert "needs_review" not in build_report().error_rate[0].flags


def test_broken_links_in_the_table_of_contents_and_in_runbooks(folder, owner, sync):
    write(folder, "a.md", body="See [b](b.md), [the web](https://example.com) and [top](#steps).\n", owner=owner.email)
    table_of_contents(folder, "a.md", "gone.md")
    sync()
    broken = {(link.source, link.target) for link in build_report().broken_links}
    assert broken == {("README.md", "gone.md"), ("a.md", "b.md")}
    write(folder, "b.md", owner=owner.email)
    table_of_contents(folder, "a.md", "b.md")
    sync()
    assert build_report().broken_links == []


def test_review_overdue_after_the_cadence_from_the_last_review(folder, owner, sync):
    write(folder, "old.md", owner=owner.email, review_every="30d", reviewed="2026-01-01")
    write(folder, "fresh.md", owner=owner.email, review_every="yearly", reviewed="2026-11-01")
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=False):
        sync()
        report = build_report()
    assert slugs(report.review_overdue) == ["old"] and report.failing


def test_invalid_files_are_reported_with_reason_and_line(folder, owner, sync):
    write(folder, "good.md", owner=owner.email)
    (folder / "bad.md").write_text("---\ntitle: Bad\nowner: olive@example.com\nreview_every: often\n---\n")
    sync()
    [entry] = build_report().invalid
    assert (entry.runbook.path, entry.runbook.invalid_line) == ("bad.md", 4) and "review_every" in entry.runbook.invalid_reason


def test_orphaned_when_the_owner_is_no_longer_active(folder, owner, sync, make_user):
    leaver = make_user("responder", email="leaver@example.com")
    write(folder, "kept.md", owner=owner.email)
    write(folder, "left.md", owner=leaver.email)
    sync()
    assert build_report().orphaned == []
    auth.update_user(leaver, name=leaver.name, role=leaver.role, time_zone="UTC", region_id=None, active=False)
    assert slugs(build_report().orphaned) == ["left"]


def test_duplicate_titles_ignore_case(folder, owner, sync):
    write(folder, "a.md", owner=owner.email, title="Restart billing")
    write(folder, "b.md", owner=owner.email, title="Something else")
    sync()
    assert build_report().duplicate_titles == []
    write(folder, "c.md", owner=owner.email, title="restart BILLING")
    sync()
    [(title, group)] = build_report().duplicate_titles
    assert sorted(slugs(group)) == ["a", "c"]


def test_the_report_counts_are_kept_per_quarter_for_the_trend(folder, owner, sync, login_as):
    write(folder, "hidden.md", owner=owner.email)
    sync()
    runbook_daily_work()
    page = login_as("executive").get("/runbooks/report").get_data(as_text=True)
    assert 'data-testid="report-trend"' in page and 'data-testid="report-unlisted"' in page
    trend = page[page.index('data-testid="report-trend"'):]
    assert "<td>1</td>" in trend  # this quarter's row counts the unlisted file


@pytest.mark.parametrize("broken", [False, True])
def test_flask_runbooks_check_fails_on_invalid_broken_or_overdue(app, folder, owner, broken):
    write(folder, "a.md", owner=owner.email)
    table_of_contents(folder, "a.md", *(["missing.md"] if broken else []))
    result = app.test_cli_runner().invoke(args=["runbooks", "check"])
    assert result.exit_code == (1 if broken else 0), result.output
    assert ("README.md" in result.output and "missing.md" in result.output) == broken
    assert "unlisted (0)" in result.output


def test_flask_runbooks_sync_indexes_the_folder(app, folder, owner):
    write(folder, "a.md", owner=owner.email)
    result = app.test_cli_runner().invoke(args=["runbooks", "sync"])
    assert result.exit_code == 0 and "1 added" in result.output
