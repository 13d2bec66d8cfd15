"""Exercises change until their first step starts: rescheduled, re-staffed or called off; never after."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.drtests import exercises, execution, findings
from app.drtests.models import DrExercise, Finding
from app.drtests.scheduled import remind_participants
from app.errors import Conflict
from app.extensions import db
from app.timeutil import utcnow
from tests.conftest import csrf_token_from
from tests.drtests.test_reminders import sent, verified_email


def exercise_count() -> int:
    return db.session.scalar(select(func.count()).select_from(DrExercise))


def test_a_rescheduled_exercise_moves_quarter_changes_people_and_reminds_again_for_the_new_date(
        make_exercise, make_user, clock):
    first, second = make_user("responder"), make_user("responder")
    verified_email(first)
    exercise = make_exercise(scheduled_for=utcnow() + timedelta(days=1), participants=[first])
    assert remind_participants()["queued"] == 1

    later = datetime(2027, 2, 10, 15, tzinfo=UTC)  # into the next fiscal year's first quarter
    exercises.update_exercise(exercise, kind="tabletop", scheduled_for=later, owner_id=exercise.owner_id,
                              participant_ids=[first.id, second.id], version=exercise.version)

    db.session.expire_all()
    assert (exercise.kind.value, exercise.scheduled_for, exercise.quarter_label) == ("tabletop", later, "Q1 FY28")
    assert sorted(p.user_id for p in exercise.participants) == sorted([first.id, second.id])
    clock.at(later - timedelta(days=1))
    assert remind_participants()["queued"] == 1  # the first person, again, for the new date
    assert len(sent("drtest_reminder")) == 2


def test_a_change_from_a_stale_page_is_refused(make_exercise, clock):
    exercise = make_exercise()
    read = exercise.version
    exercises.update_exercise(exercise, kind="tabletop", scheduled_for=exercise.scheduled_for,
                              owner_id=exercise.owner_id, version=read)
    with pytest.raises(Conflict) as stale:
        exercises.update_exercise(exercise, kind="walkthrough", scheduled_for=exercise.scheduled_for,
                                  owner_id=exercise.owner_id, version=read)
    assert stale.value.field == "version"
    db.session.rollback()
    assert db.session.get(DrExercise, exercise.id).kind.value == "tabletop"


def test_once_a_step_started_the_plan_no_longer_changes_nor_is_cancelled(make_exercise, make_user, clock):
    exercise = make_exercise()
    step = exercise.steps[0]
    execution.start_step(step, user=make_user("responder"), version=step.version)

    with pytest.raises(Conflict, match="has started"):
        exercises.update_exercise(exercise, kind="tabletop", scheduled_for=utcnow(), owner_id=None)
    with pytest.raises(Conflict, match="has started"):
        exercises.cancel_exercise(exercise)
    db.session.rollback()
    assert exercise_count() == 1


def test_cancelling_removes_the_exercise_with_its_findings(make_exercise, clock):
    exercise = make_exercise()
    findings.add_finding(exercise, title="Found in the dry run", severity="low")

    exercises.cancel_exercise(exercise, version=exercise.version)

    assert exercise_count() == 0
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0


def test_an_editor_reschedules_then_cancels_from_the_pages(login_as, make_exercise, clock):
    exercise = make_exercise()
    editor = login_as("crisis_team")
    assert "Reschedule or cancel" in editor.get(f"/drtests/exercises/{exercise.id}").get_data(as_text=True)
    page = editor.get(f"/drtests/exercises/{exercise.id}/edit").get_data(as_text=True)

    saved = editor.post(f"/drtests/exercises/{exercise.id}/edit", data={
        "csrf_token": csrf_token_from(page), "version": exercise.version, "kind": "simulation",
        "name": "ERP failover, moved", "scheduled_for": "2026-12-08T16:00"}, follow_redirects=True)

    assert "ERP failover, moved saved." in saved.get_data(as_text=True)
    page = editor.get(f"/drtests/exercises/{exercise.id}/edit").get_data(as_text=True)
    stale = editor.post(f"/drtests/exercises/{exercise.id}/edit", data={
        "csrf_token": csrf_token_from(page), "version": 1, "kind": "simulation", "scheduled_for": "2026-12-09T16:00"})
    assert stale.status_code == 422 and "changed by someone else" in stale.get_data(as_text=True)
    db.session.expire_all()
    cancelled = editor.post(f"/drtests/exercises/{exercise.id}/delete",
                            data={"csrf_token": csrf_token_from(page), "version": exercise.version},
                            follow_redirects=True)
    assert "Exercise cancelled and removed." in cancelled.get_data(as_text=True)
    assert exercise_count() == 0


def test_a_started_exercise_offers_no_rescheduling(login_as, make_exercise, make_user, clock):
    exercise = make_exercise()
    execution.start_step(exercise.steps[0], user=make_user("responder"), version=exercise.steps[0].version)
    editor = login_as("crisis_team")

    assert "Reschedule or cancel" not in editor.get(f"/drtests/exercises/{exercise.id}").get_data(as_text=True)
    page = editor.get(f"/drtests/exercises/{exercise.id}/edit")
    assert page.status_code == 200 and "its plan no longer changes" in page.get_data(as_text=True)
    assert "<form" not in page.get_data(as_text=True).split("<main", 1)[-1].split("</main>")[0]


def test_rescheduling_and_cancelling_through_the_api(api_as, make_exercise, make_user, clock):
    exercise = make_exercise()
    exercise_id, kind = exercise.id, exercise.kind.value
    person = make_user("responder")
    editor = api_as("crisis_team")
    url = f"/api/v1/drtests/exercises/{exercise_id}"

    moved = editor.patch(url, json={"scheduled_for": "2026-12-10T17:30Z", "participant_ids": [person.id]})
    assert moved.status_code == 200, moved.json
    assert moved.json["scheduled_for"].startswith("2026-12-10T17:30") and moved.json["kind"] == kind
    bad = editor.patch(url, json={"kind": "rehearsal"})
    assert bad.status_code == 422 and "kind" in bad.json["fields"]
    assert api_as("responder").delete(url).status_code == 403
    assert editor.delete(url).json == {"deleted": exercise_id}
    assert editor.get(url).status_code == 404


def test_changing_only_the_participants_still_makes_older_pages_stale(make_exercise, make_user, clock):
    exercise = make_exercise()
    read = exercise.version
    exercises.update_exercise(exercise, kind=exercise.kind, scheduled_for=exercise.scheduled_for,
                              owner_id=exercise.owner_id, participant_ids=[make_user("responder").id], version=read)
    assert exercise.version == read + 1
    with pytest.raises(Conflict):
        exercises.update_exercise(exercise, kind=exercise.kind, scheduled_for=exercise.scheduled_for,
                                  owner_id=exercise.owner_id, participant_ids=[], version=read)
