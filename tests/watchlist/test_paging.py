"""Which escalation policy a job's page goes through: its own alert, and the grouped catch-up alert."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.alerting.models import AlertEvent
from app.extensions import db
from app.oncall import policies
from tests.watchlist.conftest import START, alerts, detect, events_of, fresh

HOUR = timedelta(hours=1)


def alert_notes(alert) -> list[str]:
    return list(db.session.scalars(select(AlertEvent.text).where(AlertEvent.alert_id == alert.id)
                                   .order_by(AlertEvent.id)))


@pytest.fixture
def make_policy(make_user):
    """A one-step policy paging a new responder named "<policy name> on-call"."""

    def make(name: str):
        person = make_user("responder", name=f"{name} on-call")
        return policies.save_policy(None, name=name, steps=[{"delay_minutes": 10,
                                                             "targets": [{"user_id": person.id}]}])

    return make


def test_a_down_job_pages_through_its_escalation_policy(make_job, make_policy, ping, clock):
    billing = make_policy("Billing")
    job = make_job(escalation_policy_id=billing.id)

    ping(job, "fail")

    [alert] = alerts()
    assert alert.policy_id == billing.id
    assert (alert.policy_snapshot["policy_id"], alert.policy_snapshot["name"]) == (billing.id, "Billing")
    notes = alert_notes(alert)
    assert notes[0] == "Raised by job; escalates by Billing."
    assert notes[1].startswith("Step 1: paging Billing on-call.")  # its first step ran
    assert events_of(job, "paged")[0].text == f"Paged: alert #{alert.id} via Billing."


def test_a_job_missing_its_run_pages_through_its_policy_too(make_job, make_policy, ping, clock):
    billing = make_policy("Billing")
    job = make_job(escalation_policy_id=billing.id)
    ping(job)
    clock.move_to(START + HOUR + timedelta(minutes=16))

    assert detect() == {"late": 1, "down": 1, "paged": 1}

    [alert] = alerts()
    assert (alert.policy_id, alert.policy_snapshot["name"]) == (billing.id, "Billing")


def test_a_job_without_a_policy_raises_an_alert_that_pages_nobody_and_says_so(make_job, ping, clock):
    job = make_job()

    ping(job, "fail")

    [alert] = alerts()
    assert (alert.status, alert.policy_id, alert.policy_snapshot, alert.escalation_exhausted) == \
        ("triggered", None, None, True)
    assert "No escalation policy and no fallback policy: nobody is paged." in alert_notes(alert)
    assert events_of(job, "paged")[0].text == f"Paged: alert #{alert.id} (no escalation policy)."


@pytest.mark.config(WATCHLIST_CATCHUP_MINUTES=5, WATCHLIST_CATCHUP_MIN_JOBS=3)
def test_the_catch_up_raises_one_grouped_alert_per_policy(make_job, make_policy, ping, clock):
    first, most = make_policy("First"), make_policy("Most")
    jobs = [make_job(escalation_policy_id=first.id)] + [make_job(escalation_policy_id=most.id) for _ in range(3)]
    for job in jobs:
        ping(job)
    clock.move_to(START + 4 * HOUR)  # no pass ran for hours

    summary = detect()

    assert (summary["grouped_alerts"], summary["paged_in_group"]) == (2, 4)
    by_policy = {alert.policy_snapshot["name"]: alert for alert in alerts()}
    assert by_policy["Most"].summary.startswith("3 watched jobs")
    assert by_policy["First"].summary.startswith("1 watched jobs")
    assert any(note.startswith("Step 1: paging Most on-call") for note in alert_notes(by_policy["Most"]))
    assert {fresh(job).alert_key for job in jobs[1:]} == {by_policy["Most"].dedup_key}


@pytest.mark.config(WATCHLIST_CATCHUP_MINUTES=5, WATCHLIST_CATCHUP_MIN_JOBS=3)
def test_jobs_without_a_policy_get_their_own_grouped_alert(make_job, make_policy, ping, clock):
    billing = make_policy("Billing")
    jobs = [make_job() for _ in range(3)] + [make_job(escalation_policy_id=billing.id) for _ in range(2)]
    for job in jobs:
        ping(job)
    clock.move_to(START + 4 * HOUR)

    assert detect()["paged_in_group"] == 5

    assert sorted((alert.policy_id == billing.id, alert.summary[:1]) for alert in alerts()) == [(False, "3"),
                                                                                               (True, "2")]


@pytest.mark.config(WATCHLIST_CATCHUP_MINUTES=5, WATCHLIST_CATCHUP_MIN_JOBS=3)
def test_a_grouped_alert_of_jobs_without_policies_has_none(make_job, ping, clock):
    jobs = [make_job() for _ in range(3)]
    for job in jobs:
        ping(job)
    clock.move_to(START + 4 * HOUR)

    assert detect()["grouped_alerts"] == 1

    [alert] = alerts()
    assert (alert.policy_id, alert.policy_snapshot) == (None, None)
    assert "No escalation policy and no fallback policy: nobody is paged." in alert_notes(alert)
