""""What to chase" lists the top items of every track, each with its owner and a link to where it is fixed; other
domains add theirs through the registry without touching readiness."""
from __future__ import annotations

from datetime import date, time

import pytest

from app.drtests import findings
from app.extensions import db
from app.oncall import rotations, schedules
from app.readiness import checklist, lessons
from app.readiness.chase import register_chase_source
from app.readiness.tracks.base import ChaseItem
from app.risks import actions
from app.timeutil import fiscal_quarter

Q4 = fiscal_quarter(2027, 4)


@pytest.fixture
def something_in_every_track(app, make_user, make_risk, make_vendor, make_contact, make_job, make_exercise, clock):
    olga = make_user("crisis_team", name="Olga Owner")
    # Checklist: an item due 1 January, overdue from the 5th.
    checklist.save_template_item(title="Refresh contacts", track="people", owner_id=olga.id, bd_offset=-20)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    # Risks: a mitigation due 1 December, overdue from the 2nd.
    risk = make_risk(title="Order import backlog")
    actions.add_action(risk, description="Add two workers", owner_id=olga.id, due_on=date(2026, 12, 1))
    # Vendors: a critical vendor's contact nobody confirmed this quarter.
    vendor = make_vendor(levels=1, name="Orbis ERP", owner_id=olga.id)
    make_contact(vendor, name="Pat Support")
    # People: someone on call with no verified phone.
    paul = make_user("responder", name="Paul Pager")
    rotation = rotations.create_rotation(name="Primary", time_zone="UTC", start_date=date(2026, 11, 2),
                                         start_time=time(9), handoff_kind="weekly", shift_length=1,
                                         member_ids=[paul.id])
    schedule = schedules.create_schedule(name="Follow the sun")
    schedules.add_layer(schedule, rotation_id=rotation.id, time_zone="UTC", days=list(range(7)),
                        start_time=time(0), end_time=time(0))
    # Jobs: one down.
    job = make_job(name="GL posting", owner_id=olga.id)
    job.state, job.down_reason = "down", "failed"
    db.session.commit()
    # DR: an open finding.
    exercise = make_exercise()
    findings.add_finding(exercise, title="Failback runbook out of date", severity="high", owner_id=olga.id,
                         due_date=date(2026, 12, 20))
    # Lessons: one from last quarter still open.
    lessons.add_lesson(title="Vendor numbers out of date", recommendation="Confirm them by BD-20",
                       owner_id=olga.id, learned_in=Q4.previous(), target=Q4.next())
    clock.move_to("2027-01-05T12:00:00+00:00")
    return {"risk": risk, "vendor": vendor, "paul": paul, "job": job, "exercise": exercise}


def chase_section(client) -> str:
    page = client.get("/readiness").get_data(as_text=True)
    return page[page.index('data-testid="what-to-chase"'):page.index("</section>", page.index('data-testid="what-to-chase"'))]


def test_what_to_chase_lists_every_track_with_owner_and_link(login_as, something_in_every_track):
    made = something_in_every_track
    chase = chase_section(login_as("crisis_team"))

    for track in ("checklist", "risks", "vendors", "people", "jobs", "drtest", "lessons"):
        assert f'data-testid="chase-{track}"' in chase, track
    assert "Refresh contacts" in chase and "Olga Owner" in chase
    assert f'href="/risks/{made["risk"].id}">Mitigation overdue since 01 Dec: Add two workers' in chase
    assert f'href="/vendors/{made["vendor"].id}">Contact never: Pat Support (Orbis ERP)' in chase
    assert f'href="/oncall/people/{made["paul"].id}">No verified phone to page</a>' in chase and "Paul Pager" in chase
    assert f'href="/watchlist/jobs/{made["job"].id}">Down (failed): GL posting' in chase
    assert f'href="/drtests/exercises/{made["exercise"].id}">Open high finding: Failback runbook out of date' in chase
    assert "Lesson open: Vendor numbers out of date" in chase


def test_executives_see_no_chase_list(login_as, something_in_every_track):
    assert 'data-testid="what-to-chase"' not in login_as("executive").get("/readiness").get_data(as_text=True)


@pytest.mark.fresh_app  # the test registers a source on the app
def test_another_domain_adds_its_items_through_the_registry_and_a_broken_one_does_not_break_the_page(app,
                                                                                                     login_as):
    def follow_ups(ctx):
        return [ChaseItem(f"Follow-up {n}", "Ines Incident", f"/incidents/{n}", urgent=n == 7) for n in range(1, 8)]

    def broken(ctx):
        raise RuntimeError("the index is being rebuilt")

    register_chase_source(app, "incidents", "Incident follow-ups", follow_ups, order=70)
    register_chase_source(app, "runbooks", "Runbook reviews", broken, order=80)

    chase = chase_section(login_as("crisis_team"))

    assert 'data-testid="chase-incidents"' in chase and "Ines Incident" in chase
    assert chase.index("Follow-up 7") < chase.index("Follow-up 1")  # urgent first
    assert "and 2 more" in chase  # five shown of seven
    assert 'data-testid="chase-runbooks"' in chase and "Could not be read just now" in chase
