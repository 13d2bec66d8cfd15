"""An open lesson is reworded or re-owned (its open checklist items follow); a closed one no longer changes."""
from __future__ import annotations

import pytest

from app.errors import Conflict, Invalid
from app.extensions import db
from app.readiness import checklist, lessons
from app.readiness.models import ChecklistItem, Lesson
from app.timeutil import fiscal_quarter
from tests.conftest import csrf_token_from

Q3, Q4 = fiscal_quarter(2027, 3, 2), fiscal_quarter(2027, 4, 2)


@pytest.fixture
def carried(app, make_user):
    """A lesson learned at Q3 FY27, carried into Q4 FY27's checklist."""
    lesson = lessons.add_lesson(title="Loaners late", recommendation="Order them at BD-30", owner_id=None,
                                learned_in=Q3, target=Q4)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    return lesson


def lesson_items(lesson) -> list[ChecklistItem]:
    return list(db.session.scalars(db.select(ChecklistItem).where(ChecklistItem.lesson_id == lesson.id)))


def test_rewording_an_open_lesson_renames_and_reassigns_its_open_item(carried, make_user):
    owner = make_user("responder", name="Lee")

    lessons.update_lesson(carried, title="Loaner laptops late", recommendation="Order at BD-30", owner_id=owner.id)

    db.session.expire_all()
    [item] = lesson_items(carried)
    assert (carried.title, carried.recommendation, carried.owner_id) == ("Loaner laptops late", "Order at BD-30",
                                                                         owner.id)
    assert (item.title, item.owner_id, item.owner_role) == ("Lesson: Loaner laptops late", owner.id, "")
    assert (carried.target_fiscal_year, carried.target_quarter) == (2027, 4)


def test_an_item_already_done_keeps_what_was_done_and_the_lesson_then_no_longer_changes(carried, make_user):
    [item] = lesson_items(carried)
    checklist.update_item(make_user("crisis_team"), item, status="done", evidence="PO 4411")
    db.session.expire_all()
    assert not db.session.get(Lesson, carried.id).is_open

    with pytest.raises(Conflict, match="closed lesson"):
        lessons.update_lesson(carried, title="Other", recommendation="Other", owner_id=None)
    db.session.rollback()
    assert lesson_items(carried)[0].title == "Lesson: Loaners late"


@pytest.mark.parametrize(("fields", "field"), [({"title": " "}, "title"), ({"recommendation": ""}, "recommendation"),
                                              ({"owner_id": 999999}, "owner_id")])
def test_a_bad_edit_names_the_field_and_changes_nothing(carried, fields, field):
    values = {"title": "New", "recommendation": "New", "owner_id": None, **fields}
    with pytest.raises(Invalid) as refused:
        lessons.update_lesson(carried, **values)
    db.session.rollback()
    assert refused.value.field == field
    assert db.session.get(Lesson, carried.id).title == "Loaners late"


def test_an_editor_edits_a_lesson_from_its_page_and_a_reader_cannot(carried, login_as):
    editor = login_as("crisis_team")
    listing = editor.get("/readiness/lessons").get_data(as_text=True)
    assert f'href="/readiness/lessons/{carried.id}/edit"' in listing
    page = editor.get(f"/readiness/lessons/{carried.id}/edit").get_data(as_text=True)

    saved = editor.post(f"/readiness/lessons/{carried.id}/edit", data={
        "csrf_token": csrf_token_from(page), "title": "Loaner laptops late", "recommendation": "Order at BD-30",
        "owner_id": ""}, follow_redirects=True)
    empty = editor.post(f"/readiness/lessons/{carried.id}/edit", data={
        "csrf_token": csrf_token_from(page), "title": "", "recommendation": "x", "owner_id": ""})

    assert "Lesson saved; its open checklist items follow." in saved.get_data(as_text=True)
    assert empty.status_code == 422
    reader = login_as("executive")
    assert f"/readiness/lessons/{carried.id}/edit" not in reader.get("/readiness/lessons").get_data(as_text=True)
    assert reader.get(f"/readiness/lessons/{carried.id}/edit").status_code == 403


def test_lessons_are_edited_through_the_api(carried, api_as):
    editor = api_as("crisis_team")
    changed = editor.patch(f"/api/v1/readiness/lessons/{carried.id}", json={"title": "Loaner laptops late"})
    assert changed.status_code == 200
    assert (changed.json["title"], changed.json["recommendation"]) == ("Loaner laptops late", "Order them at BD-30")
    bad = editor.patch(f"/api/v1/readiness/lessons/{carried.id}", json={"recommendation": ""})
    assert bad.status_code == 422 and "recommendation" in bad.json["fields"]
    assert api_as("responder").patch(f"/api/v1/readiness/lessons/{carried.id}", json={"title": "x"}).status_code == 403
