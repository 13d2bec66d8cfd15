"""A template's steps move up and down; dependencies follow the steps they name, and never point forward."""
from __future__ import annotations

import pytest

from app.drtests import templates
from app.drtests.models import DrTemplate
from app.errors import Conflict, Invalid
from app.extensions import db
from tests.conftest import csrf_token_from

STEPS = [
    ("Freeze batch jobs", "prepare", 10, "", True, False, False),
    ("Take a backup", "prepare", 20, "", True, False, False),
    ("Fail over the database", "failover", 20, "1,2", True, False, True),
    ("Notify the business", "failover", 5, "", False, False, False),
]


def order(template: DrTemplate) -> list[tuple[int, str, str]]:
    db.session.expire_all()
    return [(s.position, s.title, s.depends_on) for s in db.session.get(DrTemplate, template.id).steps]


def test_moving_a_step_up_swaps_it_with_the_one_above_and_renumbers_dependencies(make_template):
    template = make_template(steps=STEPS)
    version = template.version

    templates.move_step(template.steps[3], direction="up")  # "Notify" goes above the failover

    assert order(template) == [(1, "Freeze batch jobs", ""), (2, "Take a backup", ""),
                               (3, "Notify the business", ""), (4, "Fail over the database", "1,2")]
    templates.move_step(db.session.get(DrTemplate, template.id).steps[0], direction="down")
    assert order(template) == [(1, "Take a backup", ""), (2, "Freeze batch jobs", ""),
                               (3, "Notify the business", ""), (4, "Fail over the database", "1,2")]
    assert db.session.get(DrTemplate, template.id).version == version + 2


def test_a_step_never_moves_above_a_step_it_depends_on(make_template):
    template = make_template(steps=STEPS)
    with pytest.raises(Conflict, match="depends on step 2"):
        templates.move_step(template.steps[2], direction="up")
    with pytest.raises(Conflict, match="depends on step 2"):
        templates.move_step(template.steps[1], direction="down")
    db.session.rollback()
    assert [p for p, _title, _deps in order(template)] == [1, 2, 3, 4]
    assert order(template)[2] == (3, "Fail over the database", "1,2")


@pytest.mark.parametrize(("index", "direction", "error"), [(0, "up", Conflict), (3, "down", Conflict),
                                                          (1, "sideways", Invalid)])
def test_the_ends_and_unknown_directions_are_refused(make_template, index, direction, error):
    template = make_template(steps=STEPS)
    with pytest.raises(error):
        templates.move_step(template.steps[index], direction=direction)


def test_exercises_already_scheduled_keep_their_order(make_template, make_exercise, clock):
    template = make_template(steps=STEPS)
    exercise = make_exercise(template=template)
    templates.move_step(template.steps[3], direction="up")
    db.session.expire_all()
    assert [s.title for s in exercise.steps][2:] == ["Fail over the database", "Notify the business"]


def test_an_editor_moves_a_step_from_the_template_page(login_as, make_template):
    template = make_template(steps=STEPS)
    editor = login_as("crisis_team")
    page = editor.get(f"/drtests/templates/{template.id}").get_data(as_text=True)
    assert 'aria-label="Move step 1 up"' not in page and 'aria-label="Move step 4 down"' not in page
    notify, failover = template.steps[3], template.steps[2]

    refused = editor.post(f"/drtests/templates/{template.id}/steps/{failover.id}/move",
                          data={"direction": "up", "csrf_token": csrf_token_from(page)}, follow_redirects=True)
    moved = editor.post(f"/drtests/templates/{template.id}/steps/{notify.id}/move",
                        data={"direction": "up", "csrf_token": csrf_token_from(page)}, follow_redirects=True)

    assert "Step 3 (Fail over the database) depends on step 2 (Take a backup)" in refused.get_data(as_text=True)
    assert "Notify the business is now step 3" in moved.get_data(as_text=True)
    assert [title for _position, title, _deps in order(template)][2:] == ["Notify the business",
                                                                          "Fail over the database"]
    reader_page = login_as("executive").get(f"/drtests/templates/{template.id}").get_data(as_text=True)
    assert 'aria-label="Move step' not in reader_page


def test_steps_move_through_the_api(api_as, make_template):
    template = make_template(steps=STEPS)
    editor = api_as("crisis_team")
    base = f"/api/v1/drtests/templates/{template.id}/steps"
    notify, failover = template.steps[3].id, template.steps[2].id
    url = f"{base}/{notify}/move"

    refused = editor.post(f"{base}/{failover}/move", json={"direction": "up"})  # it depends on step 2
    moved = editor.post(url, json={"direction": "up"})

    assert moved.status_code == 200
    assert [step["title"] for step in moved.json["steps"]][2:] == ["Notify the business", "Fail over the database"]
    assert refused.status_code == 409
    assert editor.post(url, json={"direction": "left"}).status_code == 422
    assert api_as("responder").post(url, json={"direction": "up"}).status_code == 403
