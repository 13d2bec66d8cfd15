"""Mitigation actions: adding, changing and finishing them, and the flags the register and the review read."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.calendar import services as calendar
from app.errors import Invalid
from app.extensions import db
from app.risks import actions
from app.risks.models import ActionStatus, RiskAction
from tests.risks.fixtures import TUESDAY

TODAY = date(2026, 11, 17)
Q4_FY27_LAST_DAY = date(2027, 1, 31)


def add(risk, owner, due_on, description="Add two order import workers"):
    return actions.add_action(risk, description=description, owner_id=owner.id, due_on=due_on)


# Q4 FY27 ends on Sunday 2027-01-31: BD0, its close day, is Friday the 29th. "After close" means after BD0.
@pytest.mark.parametrize("due_on, after_close", [(Q4_FY27_LAST_DAY - timedelta(days=2), False),
                                                  (Q4_FY27_LAST_DAY - timedelta(days=1), True),
                                                  (Q4_FY27_LAST_DAY, True)])
def test_an_action_due_after_the_threatened_quarter_closes_is_flagged_not_refused(app, make_risk, owner, at,
                                                                                   due_on, after_close):
    with at(TUESDAY):
        risk = make_risk(quarter="Q4 FY27")
        action = add(risk, owner, due_on)
    assert actions.is_after_close(action) is after_close
    assert action.status == ActionStatus.TO_DO


def test_the_after_close_flag_follows_the_quarter_the_risk_threatens(app, make_risk, owner, at):
    with at(TUESDAY):
        risk = make_risk(quarter="Q1 FY28")
        action = add(risk, owner, Q4_FY27_LAST_DAY + timedelta(days=10))
    assert not actions.is_after_close(action)


def test_an_action_is_overdue_after_its_due_date_until_it_is_done_or_dropped(app, make_risk, owner, at):
    with at(TUESDAY):
        risk = make_risk()
        action = add(risk, owner, TODAY + timedelta(days=2))
    assert not actions.is_overdue(action, TODAY + timedelta(days=2))
    assert actions.is_overdue(action, TODAY + timedelta(days=3))
    assert actions.action_counts([risk.id], TODAY + timedelta(days=3)) == {risk.id: (1, 1)}
    actions.set_action_status(action, status="done")
    assert action.completed_at is not None
    assert not actions.is_overdue(action, TODAY + timedelta(days=3))
    assert actions.action_counts([risk.id], TODAY + timedelta(days=3)) == {}


def test_dropping_an_action_needs_a_reason(app, make_risk, owner, at):
    with at(TUESDAY):
        risk = make_risk()
        action = add(risk, owner, TODAY + timedelta(days=2))
    with pytest.raises(Invalid, match="why the action is dropped") as error:
        actions.set_action_status(action, status="dropped", reason="")
    assert error.value.field == "reason"
    actions.set_action_status(action, status="dropped", reason="Vendor fixed it upstream")
    assert (action.status, action.drop_reason) == (ActionStatus.DROPPED, "Vendor fixed it upstream")
    actions.set_action_status(action, status="doing")
    assert (action.status, action.drop_reason) == (ActionStatus.DOING, "")


@pytest.mark.parametrize("fields, field", [
    ({"description": " "}, "description"), ({"owner_id": None}, "owner_id"), ({"owner_id": 9999}, "owner_id"),
    ({"due_on": None}, "due_on"), ({"due_on": TODAY - timedelta(days=1)}, "due_on"),
])
def test_an_action_needs_what_who_and_a_date_not_in_the_past(app, make_risk, owner, at, fields, field):
    with at(TUESDAY):
        risk = make_risk()
        values = {"description": "Load test", "owner_id": owner.id, "due_on": TODAY, **fields}
        with pytest.raises(Invalid) as error:
            actions.add_action(risk, **values)
    assert error.value.field == field


def test_an_action_keeps_a_due_date_that_has_passed_when_something_else_changes(app, make_risk, owner, make_user,
                                                                                at):
    with at(TUESDAY):
        risk = make_risk()
        action = add(risk, owner, TODAY)
    other = make_user("crisis_team")
    with at(TUESDAY + timedelta(days=5)):
        actions.update_action(action, description="Load test at 3x", owner_id=other.id, due_on=TODAY)
        with pytest.raises(Invalid, match="has passed"):
            actions.update_action(action, description="Load test", owner_id=other.id, due_on=TODAY + timedelta(days=1))
    assert (action.description, action.owner_id, action.due_on) == ("Load test at 3x", other.id, TODAY)


def test_working_on_an_action_counts_as_an_update_of_its_risk(app, make_risk, owner, at):
    with at(TUESDAY):
        risk = make_risk()
    with at(TUESDAY + timedelta(days=3)):
        add(risk, owner, TODAY + timedelta(days=7))
    assert risk.updated_at == TUESDAY + timedelta(days=3)


@pytest.mark.config(FISCAL_YEAR_START_MONTH=1)
def test_after_close_is_after_bd0_in_the_risk_owners_region(app, make_user, make_risk, owner, at):
    # Calendar quarters: Q4 FY26 ends Thursday 31 December 2026. In the Philippines the 30th (Rizal Day) and the
    # 31st (Last Day of the Year) are holidays, so BD0 there is Tuesday the 29th; elsewhere it is the 31st.
    manila = calendar.create_region(name="APAC", time_zone="Asia/Manila", business_start=time(9),
                                    business_end=time(18), holiday_country="PH")
    manila_owner = make_user("crisis_team", name="Mara Manila", region_id=manila.id)
    with at(datetime(2026, 12, 1, 12, tzinfo=UTC)):
        in_manila = make_risk(quarter="Q4 FY26", owner_id=manila_owner.id)
        elsewhere = make_risk(quarter="Q4 FY26")
        late_there = add(in_manila, owner, date(2026, 12, 30))
        in_time_elsewhere = add(elsewhere, owner, date(2026, 12, 30))

    assert actions.is_after_close(late_there) is True
    assert actions.is_after_close(in_time_elsewhere) is False
    quarter = calendar.quarter_for(date(2026, 12, 1))
    late_ids = set(db.session.scalars(actions.pending_after_close(quarter).with_only_columns(RiskAction.id)))
    assert late_ids == {late_there.id}  # the readiness track reads the same rule
