"""A DR evidence link is never a blind redirect: its page says where it leads, and an unsafe stored one is text."""
from __future__ import annotations

import pytest

from app.auth.roles import Role
from app.drtests import evidence, execution
from app.drtests.models import Evidence
from app.errors import Invalid
from app.extensions import db


@pytest.fixture
def evidence_step(make_exercise, make_user, clock):
    exercise = make_exercise()
    step = exercise.steps[0]
    owner = exercise.owner or make_user(Role.CRISIS_TEAM)
    execution.start_step(step, user=owner, version=step.version)
    return step, owner


def test_an_external_evidence_link_opens_a_page_saying_where_it_leads(login_as, evidence_step):
    step, owner = evidence_step
    record = evidence.add_link(step, user=owner, url="https://tickets.example.com/INC-42", label="Ticket")

    response = login_as(Role.EXECUTIVE).get(f"/drtests/evidence/{record.id}")

    assert response.status_code == 200  # not a redirect
    page = response.get_data(as_text=True)
    assert "You are leaving Quarterdeck" in page and 'href="https://tickets.example.com/INC-42"' in page


def test_an_evidence_link_stored_before_the_rule_is_shown_as_text_only(login_as, evidence_step):
    step, owner = evidence_step
    record = Evidence(step_id=step.id, label="Odd", url="javascript:alert(1)", added_by_id=owner.id)
    db.session.add(record)
    db.session.commit()

    response = login_as(Role.EXECUTIVE).get(f"/drtests/evidence/{record.id}")

    assert response.status_code == 200 and "Location" not in response.headers
    page = response.get_data(as_text=True)
    assert 'href="javascript:' not in page and "shown only as text" in page


def test_an_evidence_link_must_be_a_web_address_or_a_path_of_this_site(evidence_step):
    step, owner = evidence_step
    with pytest.raises(Invalid) as refused:
        evidence.add_link(step, user=owner, url="//evil.example/x")
    assert refused.value.field == "url"
    assert evidence.add_link(step, user=owner, url="/drtests").url == "/drtests"
