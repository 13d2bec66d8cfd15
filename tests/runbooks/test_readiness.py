"""The Runbooks readiness track: critical items without a runbook, overdue reviews of critical runbooks, error
rates that need review; and runbook work in "what to chase"."""
from __future__ import annotations

from app.readiness.score import compute_readiness
from tests.runbooks.support import make_job, run_through, write


def runbooks_track():
    return compute_readiness().track("runbooks")


def test_the_track_is_not_tracked_until_a_runbook_is_indexed(folder):
    assert runbooks_track().score is None


def test_a_current_catalog_covering_every_critical_item_scores_100(folder, owner, sync):
    make_job("Billing", "Billing run")
    write(folder, "billing.md", owner=owner.email, systems=["Billing"])
    sync()
    track = runbooks_track()
    assert track.score == 100 and track.reasons == [] and "1 of 1" in track.note


def test_undocumented_critical_items_overdue_reviews_and_error_rates_cost_points(folder, owner, sync):
    make_job("Billing", "Billing run")
    make_job("ERP", "GL posting")
    write(folder, "billing.md", owner=owner.email, systems=["Billing"], review_every="7d", reviewed="2020-01-01")
    sync()
    for _ in range(3):
        run_through("billing", owner, ["failed"], "failed", note="broke")
    track = runbooks_track()
    texts = [reason.text for reason in track.reasons]
    assert any(text == "No runbook: ERP" for text in texts)
    assert any(text == "No runbook: GL posting (ERP)" for text in texts)
    assert any(text.startswith("Review overdue since") and "Billing" in text for text in texts)
    assert any(text.startswith("Needs review (100% of 3 runs") for text in texts)
    assert track.score == 100 - 2 * 4 - 5 - 5


def test_overdue_and_flagged_runbooks_are_in_what_to_chase(folder, owner, sync, login_as):
    write(folder, "billing.md", owner=owner.email, review_every="7d", reviewed="2020-01-01")
    sync()
    page = login_as("crisis_team").get("/readiness").get_data(as_text=True)
    chase = page[page.index('data-testid="what-to-chase"'):]
    assert "Olive Owner" in chase and "Review runbook: Billing" in chase and 'href="/runbooks/billing"' in chase
    assert 'id="track-runbooks"' in page
