"""The review's messages: the pre-read to the crisis team and one reminder per owner of overdue actions, each sent
once, and the ones that could not be delivered listed on the review page."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.alerting.models import OutboundMessage
from app.extensions import db
from app.reviews import meeting
from app.reviews.agenda import build_review
from app.reviews.messages import send_review_messages
from app.reviews.models import ReviewMessage
from app.risks import actions
from tests.conftest import drain_outbox
from tests.risks.fixtures import TUESDAY

TODAY = date(2026, 11, 17)


def sent(purpose: str) -> list[OutboundMessage]:
    return list(db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == purpose)
                                   .order_by(OutboundMessage.id)))


@pytest.fixture
def team(make_user, give_email):
    reachable = make_user("crisis_team", name="Casey Crisis")
    give_email(reachable)
    unreachable = make_user("crisis_team", name="Una Reachable")  # no verified email
    make_user("executive", name="Exec Only")  # not on the crisis team: no pre-read
    return reachable, unreachable


@pytest.fixture
def review(app, make_risk, owner, team, at):
    with at(TUESDAY - timedelta(days=10)):
        risk = make_risk(title="Order import backlog", likelihood=4, impact=4)
        other = make_risk(title="Tax engine outage", likelihood=3, impact=4)
        actions.add_action(risk, description="Double the workers", owner_id=owner.id, due_on=TODAY - timedelta(days=3))
        actions.add_action(other, description="Call the vendor", owner_id=owner.id, due_on=TODAY - timedelta(days=1))
        actions.add_action(other, description="Cache the rates", owner_id=team[1].id,
                           due_on=TODAY - timedelta(days=1))
        actions.add_action(other, description="Not late yet", owner_id=team[0].id, due_on=TODAY + timedelta(days=3))
    with at(TUESDAY):
        built, _created = build_review()
    return built


def test_the_pre_read_goes_to_each_of_the_crisis_team_once(review, team, owner, at):
    reachable, unreachable = team  # the owner is on the crisis team too, without a verified email
    with at(TUESDAY + timedelta(minutes=2)):
        assert send_review_messages() == {"pre_reads": 1, "reminders": 0, "failed": 2}
        assert send_review_messages() == {"pre_reads": 0, "reminders": 0, "failed": 0}
    assert drain_outbox() == 1
    mails = sent("risk_review_pre_read")
    assert [(m.user_id, m.status) for m in mails] == [(reachable.id, "sent"), (owner.id, "failed"),
                                                      (unreachable.id, "failed")]
    assert mails[0].subject == "Weekly risk review 2026-W47: pre-read (2 risks)"
    first = review.items[0].risk_id
    assert f"R-{first} [high] Order import backlog (owner: Olive Owner)" in mails[0].body
    assert "Action overdue" in mails[0].body and f"/reviews/{review.id}" in mails[0].body
    assert "No verified email address" in mails[2].last_error


def test_a_review_built_long_ago_gets_no_pre_read(review, at):
    with at(TUESDAY + timedelta(days=8)):
        send_review_messages()
    assert sent("risk_review_pre_read") == []


def test_after_the_meeting_each_owner_of_overdue_actions_gets_one_reminder(review, team, owner, give_email, at):
    give_email(owner)
    reachable, unreachable = team
    with at(TUESDAY + timedelta(minutes=2)):
        send_review_messages()
        assert sent("risk_action_reminder") == []  # not before the meeting is finished
        meeting.finish_review(review, actor=reachable, attendee_ids=[reachable.id])
    with at(TUESDAY + timedelta(hours=1)):
        assert send_review_messages() == {"pre_reads": 0, "reminders": 1, "failed": 1}
        assert send_review_messages() == {"pre_reads": 0, "reminders": 0, "failed": 0}

    assert drain_outbox() == 3  # the two pre-reads queued earlier and the one reminder
    reminders = sent("risk_action_reminder")
    assert [(m.user_id, m.status) for m in reminders] == [(owner.id, "sent"), (unreachable.id, "failed")]
    assert reminders[0].subject == "Reminder: 2 overdue risk actions (2026-W47 review)"
    first, second = (item.risk_id for item in review.items)
    assert f"R-{first} Order import backlog: Double the workers (due 2026-11-14)" in reminders[0].body
    assert f"R-{second} Tax engine outage: Call the vendor (due 2026-11-16)" in reminders[0].body
    assert "Not late yet" not in reminders[0].body


def test_undelivered_messages_are_listed_on_the_review_page(review, team, at, login_as):
    with at(TUESDAY + timedelta(minutes=2)):
        send_review_messages()
        meeting.finish_review(review, actor=team[0], attendee_ids=[team[0].id])
    with at(TUESDAY + timedelta(hours=1)):
        send_review_messages()
        page = login_as("executive").get(f"/reviews/{review.id}").get_data(as_text=True)
    failed = page[page.index('data-testid="failed-messages"'):page.index('id="agenda-heading"')]
    assert "Pre-read to <strong>Una Reachable</strong>: No verified email address" in failed
    assert "Reminder to <strong>Olive Owner</strong>: No verified email address" in failed
    assert "Double the workers" in failed  # what the reminder would have said
    rows = db.session.scalars(select(ReviewMessage).where(ReviewMessage.status == "failed")).all()
    assert len(rows) == 4  # pre-reads and reminders of the two people without an email
