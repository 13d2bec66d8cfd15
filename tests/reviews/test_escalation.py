"""Escalating a risk from the weekly review reaches each executive once and stays in front of them until one of
them acknowledges it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.alerting.models import OutboundMessage
from app.errors import Conflict
from app.extensions import db
from app.oncall.models import ContactKind, ContactMethod
from app.reviews import meeting
from app.reviews.agenda import build_review
from app.risks import escalations, history, services as risks
from app.risks.escalation_models import RiskEscalation
from app.timeutil import utcnow
from tests.conftest import drain_outbox, form_post
from tests.risks.fixtures import TUESDAY


@pytest.fixture
def executives(make_user, give_email):
    """Eve (email and SMS), Ed (email only), and Ina, who left (inactive)."""
    eve = make_user("executive", name="Eve Exec")
    ed = make_user("executive", name="Ed Exec")
    ina = make_user("executive", name="Ina Gone")
    for person in (eve, ed, ina):
        give_email(person)
    db.session.add(ContactMethod(user_id=eve.id, kind=ContactKind.SMS, address="+14155550101", verified_at=utcnow()))
    ina.active = False
    db.session.commit()
    return eve, ed, ina


@pytest.fixture
def review(app, make_risk, at):
    with at(TUESDAY - timedelta(days=2)):
        make_risk(title="Order import backlog", likelihood=5, impact=5, inherent_likelihood=5, inherent_impact=5)
        make_risk(title="Tax engine outage", likelihood=3, impact=3)
    with at(TUESDAY):
        built, _created = build_review()
    return built


def item_titled(review, title):
    return next(item for item in review.items if item.snapshot["title"] == title)


def escalate(review, title, actor, at, note="Needs budget for two more workers before BD-5"):
    item = item_titled(review, title)
    with at(TUESDAY + timedelta(minutes=10)):
        meeting.record_decision(review, item, actor=actor, decision="escalate", note=note)
    return item


def messages_by_person() -> dict[tuple[int, str], int]:
    counts: dict[tuple[int, str], int] = {}
    for message in db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "risk_escalation")):
        counts[(message.user_id, message.kind)] = counts.get((message.user_id, message.kind), 0) + 1
    return counts


def test_a_critical_escalation_reaches_each_active_executive_once_by_email_and_sms(review, executives, make_user,
                                                                                   at):
    eve, ed, ina = executives
    chair = make_user("crisis_team", name="Casey Chair")

    item = escalate(review, "Order import backlog", chair, at)
    with pytest.raises(Conflict):  # a double click, or someone else at the same moment
        escalate(review, "Order import backlog", chair, at)
    db.session.rollback()

    assert messages_by_person() == {(eve.id, "email"): 1, (eve.id, "sms"): 1, (ed.id, "email"): 1}
    assert "2 notified (email and SMS: the risk is critical)" in item.outcome
    [escalation] = escalations.escalations_of(item.risk)
    by_person = {(notice.name, notice.kind): notice.outcome for notice in escalation.notices}
    assert by_person == {("Eve Exec", "email"): "pending", ("Eve Exec", "sms"): "pending",
                         ("Ed Exec", "email"): "pending", ("Ed Exec", "sms"): "not sent: no verified number"}
    assert drain_outbox() == 3
    email = db.session.scalar(select(OutboundMessage).where(OutboundMessage.user_id == ed.id))
    assert email.subject == f"Escalated to you: R-{item.risk_id} Order import backlog"
    assert "Needs budget for two more workers before BD-5" in email.body


def test_a_lower_risk_is_escalated_by_email_only(review, executives, make_user, at):
    eve, ed, _ina = executives
    escalate(review, "Tax engine outage", make_user("crisis_team"), at)

    assert messages_by_person() == {(eve.id, "email"): 1, (ed.id, "email"): 1}


def test_the_escalation_shows_to_executives_until_one_acknowledges_it(review, executives, make_user, login_as, at,
                                                                       api_as):
    eve, ed, _ina = executives
    item = escalate(review, "Order import backlog", make_user("crisis_team"), at)
    risk_id = item.risk_id
    executive = login_as("executive", name="Exa Exec")
    crisis = login_as("crisis_team")

    before = executive.get("/readiness").get_data(as_text=True)
    seen_by_crisis = crisis.get("/readiness").get_data(as_text=True)
    assert "Escalated to you" in before and "Needs budget for two more workers before BD-5" in before
    assert f"R-{risk_id} Order import backlog" in before and "Acknowledge" in before
    assert "Escalated to the executives" in seen_by_crisis and "Waiting for an executive" in seen_by_crisis
    [escalation] = escalations.open_escalations()

    refused = api_as("crisis_team").post(f"/api/v1/risks/escalations/{escalation.id}/acknowledge", json={})
    assert refused.status_code == 403
    done = form_post(executive, f"/risks/escalations/{escalation.id}/acknowledge", {"note": "Budget approved"},
                     page_url="/readiness")
    assert done.status_code == 302

    after = executive.get("/readiness").get_data(as_text=True)
    assert "Needs budget" not in after and "Nothing is escalated to you." in after
    again = api_as("executive").post(f"/api/v1/risks/escalations/{escalation.id}/acknowledge",
                                     json={"note": "me too"})
    assert again.status_code == 409
    # On the risk's history: the comment and the audit trail of the escalation.
    comments = [comment.body for comment in risks.comments(risks.get_risk(risk_id))]
    assert "Escalation acknowledged by Exa Exec: Budget approved" in comments
    trail = history.audit_trail(risks.get_risk(risk_id))
    assert any(event.entity_type == "risk_escalations" for event in trail)
    page = executive.get(f"/risks/{risk_id}").get_data(as_text=True)
    assert "acknowledged</span> by Exa Exec" in page and "Eve Exec by email" in page
    assert db.session.get(RiskEscalation, escalation.id).acknowledged_by_name == "Exa Exec"


def test_the_api_lists_open_escalations(review, executives, make_user, at, api_as):
    escalate(review, "Order import backlog", make_user("crisis_team"), at)

    listed = api_as("executive").get("/api/v1/risks/escalations").get_json()

    assert [(row["title"], row["level"], row["text"]) for row in listed] == [
        ("Order import backlog", "critical", "Needs budget for two more workers before BD-5")]
    assert sorted((notice["name"], notice["kind"]) for notice in listed[0]["notices"]) == [
        ("Ed Exec", "email"), ("Ed Exec", "sms"), ("Eve Exec", "email"), ("Eve Exec", "sms")]
