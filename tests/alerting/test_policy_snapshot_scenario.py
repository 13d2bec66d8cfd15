"""An alert escalates by the policy it started with: editing the policy meanwhile reaches only later alerts."""
from __future__ import annotations

import pytest

from app.oncall import policies
from tests.alerting.pager import give_methods, policy_for

ALICE, BOB, CAROL = "+14155550101", "+14155550102", "+14155550103"


@pytest.fixture
def people(make_user):
    alice, bob, carol = (make_user("responder", name=name) for name in ("Alice", "Bob", "Carol"))
    for person, number in ((alice, ALICE), (bob, BOB), (carol, CAROL)):
        give_methods(person, ("sms", number, 0))
    return alice, bob, carol


def test_an_open_alert_keeps_paging_step_two_as_it_was_when_the_policy_changes(phones, people):
    alice, bob, carol = people
    policy = policy_for(([alice], 10), ([bob], 10))
    phones.trigger("ERP billing job missed its run", escalation_policy_id=policy.id, dedup_key="billing")
    phones.tick()
    phones.expect_sms(ALICE, "ERP billing job")

    # While the alert waits on step 1, someone hands step 2 to Carol.
    policies.save_policy(policy, name=policy.name, steps=[
        {"delay_minutes": 10, "targets": [{"user_id": alice.id}]},
        {"delay_minutes": 10, "targets": [{"user_id": carol.id}]}])
    phones.wait(minutes=10)

    phones.expect_sms(BOB, "ERP billing job")  # the step 2 it started with
    phones.expect_nothing()  # and nothing to Carol

    # The edit itself took: an alert raised after it pages Carol at step 2.
    phones.trigger("GL posting job missed its run", escalation_policy_id=policy.id, dedup_key="gl")
    phones.tick()
    phones.expect_sms(ALICE, "GL posting job")
    phones.wait(minutes=10)
    phones.expect_sms(CAROL, "GL posting job")
