"""A risk's status: the allowed moves, what each needs, and acceptances that expire by themselves."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.alerting.models import OutboundMessage
from app.errors import Invalid
from app.extensions import db
from app.risks import history, services, workflow
from app.risks.models import RiskComment
from app.risks.scheduled import expire_acceptances
from tests.conftest import drain_outbox
from tests.risks.fixtures import TUESDAY

TODAY = date(2026, 11, 17)  # TUESDAY in the review's zone (Los Angeles)


@pytest.fixture
def approver(make_user):
    return make_user("crisis_team", name="Alex Approver")


def accept(risk, actor, expires_on=TODAY + timedelta(days=30), reason="Cost of mitigation exceeds exposure"):
    return workflow.change_status(risk, transition="accept", actor=actor, reason=reason, expires_on=expires_on)


def comments_of(risk) -> list[str]:
    return list(db.session.scalars(select(RiskComment.body).where(RiskComment.risk_id == risk.id)
                                   .order_by(RiskComment.id)))


@pytest.mark.parametrize("path, final", [
    (["start"], "mitigating"), (["mitigated"], "mitigated"), (["start", "mitigated"], "mitigated"),
    (["start", "mitigated", "start"], "mitigating"), (["mitigated", "reopen"], "open"),
    (["close", "reopen"], "open"), (["start", "close"], "closed"),
])
def test_a_risk_moves_through_its_workflow(app, make_risk, approver, path, final):
    risk = make_risk()
    for move in path:
        workflow.change_status(risk, transition=move, actor=approver, reason="Done" if move == "close" else "")
    assert risk.status.value == final
    assert [p.status.value for p in history.score_history(risk)][-1] == final


@pytest.mark.parametrize("path, refused", [
    ([], "reopen"), (["close"], "start"), (["close"], "mitigated"), (["close"], "close"), (["mitigated"], "mitigated"),
])
def test_a_move_the_workflow_does_not_allow_is_refused(app, make_risk, approver, path, refused):
    risk = make_risk()
    for move in path:
        workflow.change_status(risk, transition=move, actor=approver, reason="Done")
    with pytest.raises(Invalid, match="cannot go to") as error:
        workflow.change_status(risk, transition=refused, actor=approver, reason="Done")
    assert error.value.field == "transition"


def test_closing_needs_a_reason_which_is_kept(app, make_risk, approver):
    risk = make_risk()
    with pytest.raises(Invalid, match="why the risk is closed") as error:
        workflow.change_status(risk, transition="close", actor=approver, reason="  ")
    assert error.value.field == "reason" and risk.status.value == "open"

    workflow.change_status(risk, transition="close", actor=approver, reason="Vendor replaced")
    assert (risk.status.value, risk.close_reason, risk.next_review_on) == ("closed", "Vendor replaced", None)


def test_reopening_clears_the_close_reason_and_says_why(app, make_risk, approver):
    risk = make_risk()
    workflow.change_status(risk, transition="close", actor=approver, reason="Vendor replaced")
    workflow.change_status(risk, transition="reopen", actor=approver, reason="The new vendor failed too")
    assert (risk.status.value, risk.close_reason) == ("open", "")
    assert risk.next_review_on is not None
    assert comments_of(risk) == ["Reopen: The new vendor failed too"]


def test_an_acceptance_records_its_approver_reason_and_expiry(app, make_risk, approver, at):
    risk = make_risk()
    with at(TUESDAY):
        accept(risk, approver)
    assert (risk.status.value, risk.accepted_by_id, risk.acceptance_expires_on) == \
        ("accepted", approver.id, TODAY + timedelta(days=30))
    assert risk.acceptance_reason == "Cost of mitigation exceeds exposure"
    assert risk.next_review_on is None  # waits for its expiry instead of its cadence


def test_the_owner_cannot_approve_accepting_their_own_risk(app, make_risk, owner, at):
    risk = make_risk()
    with at(TUESDAY), pytest.raises(Invalid, match="You own this risk") as error:
        accept(risk, owner)
    assert error.value.field == "transition" and risk.status.value == "open"


def test_only_the_crisis_team_or_an_administrator_can_approve_an_acceptance(app, make_risk, make_user, at):
    risk = make_risk()
    with at(TUESDAY), pytest.raises(Invalid, match="crisis team or an administrator"):
        accept(risk, make_user("responder"))
    with at(TUESDAY):
        accept(risk, make_user("admin"))
    assert risk.status.value == "accepted"


@pytest.mark.parametrize("reason, expires_on, field", [
    ("", TODAY + timedelta(days=10), "reason"), ("Tolerable", None, "expires_on"),
    ("Tolerable", TODAY, "expires_on"), ("Tolerable", TODAY + timedelta(days=367), "expires_on"),
])
def test_an_acceptance_needs_a_reason_and_an_expiry_within_a_year(app, make_risk, approver, at, reason,
                                                                   expires_on, field):
    risk = make_risk()
    with at(TUESDAY), pytest.raises(Invalid) as error:
        accept(risk, approver, expires_on=expires_on, reason=reason)
    assert error.value.field == field and risk.status.value == "open"


def test_the_approver_cannot_become_the_owner_while_the_risk_is_accepted(app, make_risk, approver, at):
    risk = make_risk()
    with at(TUESDAY):
        accept(risk, approver)
    fields = {**services.risk_fields(risk), "owner_id": approver.id}
    with pytest.raises(Invalid, match="approved the acceptance") as error:
        services.update_risk(risk, **fields)
    assert error.value.field == "owner_id"


def run_expiry(at, moment: datetime) -> dict[str, int]:
    with at(moment):
        return expire_acceptances()


def test_an_acceptance_holds_through_its_expiry_day_and_reopens_the_risk_the_day_after(
        app, make_risk, approver, owner, give_email, at):
    give_email(owner)
    with at(TUESDAY):
        risk = make_risk()
        accept(risk, approver, expires_on=TODAY + timedelta(days=2))

    assert run_expiry(at, TUESDAY + timedelta(days=2)) == {"reopened": 0, "told": 0, "not_told": 0}
    assert risk.status.value == "accepted"
    assert run_expiry(at, TUESDAY + timedelta(days=3)) == {"reopened": 1, "told": 1, "not_told": 0}

    db.session.refresh(risk)
    assert risk.status.value == "open"
    assert (risk.accepted_by_id, risk.acceptance_expires_on, risk.acceptance_reason) == (None, None, "")
    assert risk.next_review_on is not None
    assert "The acceptance expired on 2026-11-19" in comments_of(risk)[0]
    assert [p.cause for p in history.score_history(risk)][-1] == "expiry"
    assert drain_outbox() == 1
    mail = db.session.scalar(select(OutboundMessage).where(OutboundMessage.purpose == "risk_acceptance_expired"))
    assert (mail.user_id, mail.kind, mail.status) == (owner.id, "email", "sent")
    assert mail.subject == f"Risk R-{risk.id} is open again: its acceptance expired"
    assert risk.title in mail.body
    assert run_expiry(at, TUESDAY + timedelta(days=4)) == {"reopened": 0, "told": 0, "not_told": 0}


def test_an_owner_who_cannot_be_emailed_is_not_silently_skipped(app, make_risk, approver, owner, at):
    with at(TUESDAY):
        risk = make_risk()  # the owner has no verified email
        accept(risk, approver, expires_on=TODAY + timedelta(days=1))

    assert run_expiry(at, TUESDAY + timedelta(days=3)) == {"reopened": 1, "told": 0, "not_told": 1}

    mail = db.session.scalar(select(OutboundMessage).where(OutboundMessage.purpose == "risk_acceptance_expired"))
    assert (mail.user_id, mail.status) == (owner.id, "failed")
    assert "No verified email address" in mail.last_error
    assert any("could not be told" in body and "No verified email" in body for body in comments_of(risk))
