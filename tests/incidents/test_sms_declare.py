"""The SMS reply `12i` when it cannot declare: the answer says why, and nothing is written."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.incidents.models import Incident
from tests.alerting.pager import give_methods, policy_for

PHONE = "+14155550101"


def test_an_executive_replying_i_is_told_only_responders_declare(phones, make_user):
    emery = make_user("executive", name="Emery")
    give_methods(emery, ("sms", PHONE, 0))
    phones.trigger(escalation_policy_id=policy_for(([emery], 30)).id)
    phones.tick()
    phones.expect_sms(PHONE, "QD alert 1:")

    answer = phones.reply(PHONE, "1i")

    assert answer == ("QD: no incident declared from alert 1: only responders, the crisis team and administrators "
                      "declare incidents.")
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 0


def test_a_second_i_names_the_incident_the_alert_is_already_part_of(phones, make_user):
    alice = make_user("responder", name="Alice")
    give_methods(alice, ("sms", PHONE, 0))
    phones.trigger(escalation_policy_id=policy_for(([alice], 30)).id)
    phones.tick()
    phones.expect_sms(PHONE)
    phones.reply(PHONE, "i 1")

    answer = phones.reply(PHONE, "1I")

    incident = db.session.scalar(select(Incident))
    assert answer.startswith(f"QD: no incident declared from alert 1: alert 1 is already part of {incident.code} "
                             "(commander Alice)")
    assert len(answer) <= 160
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 1
