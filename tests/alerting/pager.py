"""A "phone" view of paging for scenario tests: people with verified methods, the clock, the engine tick,
what reached the stand-in Twilio server, and replies sent back through the signed webhooks.

`Phones.expect_sms(...)` consumes the next message to a number; anything left unconsumed fails the test
at the end (see the `phones` fixture), so an unexpected extra page cannot go unnoticed.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from flask import current_app

from app.alerting.engine import run_engine_tick
from app.alerting.models import Alert
from app.alerting.services import raise_alert
from app.extensions import db
from app.oncall import policies
from app.oncall.models import ContactKind, ContactMethod, NotificationRule
from app.timeutil import UTC

T0 = datetime(2026, 10, 6, 2, 0, tzinfo=UTC)  # a Tuesday night, far from any close window


def give_methods(person, *rules: tuple[str, str, int]) -> dict[str, ContactMethod]:
    """Verified methods with rules: ("sms", "+14155550101", 0), ("voice", "+14155550101", 2) ..."""
    methods = {}
    for kind, address, delay in rules:
        method = methods.get((kind, address))
        if method is None:
            method = ContactMethod(user_id=person.id, kind=ContactKind(kind), address=address, verified_at=T0)
            db.session.add(method)
            db.session.flush()
            methods[(kind, address)] = method
        db.session.add(NotificationRule(user_id=person.id, contact_method_id=method.id, delay_minutes=delay))
    db.session.commit()
    return {kind: method for (kind, _address), method in methods.items()}


def policy_for(*steps: tuple[list, int], name: str = "Critical jobs", **fields):
    """A policy whose steps page the given people: ([alice], 10), ([bob], 10) ..."""
    return policies.save_policy(None, name=name, steps=[
        {"delay_minutes": delay, "targets": [{"user_id": person.id} for person in people]} for people, delay in steps],
        **fields)


class Phones:
    def __init__(self, app, twilio, client, traveller):
        self.app, self.twilio, self.client, self.traveller = app, twilio, client, traveller
        self.seen = 0

    # --- the world ---
    def tick(self) -> dict:
        result = run_engine_tick()
        db.session.expire_all()
        return result

    def wait(self, **delta) -> dict:
        """Let time pass, then run one engine tick."""
        self.traveller.shift(timedelta(**delta))
        return self.tick()

    def trigger(self, summary: str = "ERP billing job missed its run", **fields) -> Alert:
        fields.setdefault("source", "job")
        alert, _created = raise_alert(summary=summary, **fields)
        db.session.commit()
        return alert

    # --- what arrived ---
    def _unseen(self):
        records = sorted(self.twilio.messages + self.twilio.calls, key=lambda record: record.received_at)
        return records[self.seen:]

    def _next(self, kind: str, to: str, containing: str):
        unseen = self._unseen()
        assert unseen, f"expected a {kind} to {to} containing {containing!r}, nothing arrived"
        record = unseen[0]
        assert (record.kind, record.to) == (kind, to), \
            f"expected a {kind} to {to}, got a {record.kind} to {record.to}: {record.body or record.url}"
        if kind == "message":
            assert containing in (record.body or ""), f"{containing!r} not in {record.body!r}"
        self.seen += 1
        return record

    def expect_sms(self, to: str, containing: str = ""):
        return self._next("message", to, containing)

    def expect_call(self, to: str):
        return self._next("call", to, "")

    def expect_nothing(self) -> None:
        unseen = self._unseen()
        assert not unseen, "unexpected: " + "; ".join(f"{r.kind} to {r.to}: {r.body or r.url}" for r in unseen)

    # --- the person's side ---
    def reply(self, from_number: str, body: str) -> str:
        """Send an SMS reply through the signed webhook; the text Quarterdeck answers with ('' for none)."""
        url = f"{current_app.config['PUBLIC_BASE_URL']}/twilio/sms"
        path, form, headers = self.twilio.signed_sms_reply(url, from_number, body)
        response = self.client.post(path, data=form, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        db.session.expire_all()
        return _message_text(response.get_data(as_text=True))

    def report(self, record, status: str, error_code=None) -> int:
        path, form, headers = self.twilio.signed_status(record, status, error_code,
                                                        base_url=current_app.config["PUBLIC_BASE_URL"])
        response = self.client.post(path, data=form, headers=headers)
        db.session.expire_all()
        return response.status_code

    def answer_call(self, record, *, digits: str | None = None, answered_by: str | None = "human"):
        """Twilio fetching the call's TwiML (at answer) or posting a key press; returns the TwiML text."""
        path = "/twilio/voice/gather" if digits is not None else "/twilio/voice"
        url = f"{current_app.config['PUBLIC_BASE_URL']}{path}?message_id={record.message_id}"
        path, form, headers = self.twilio.signed_voice(record, url, digits=digits,
                                                       answered_by=None if digits is not None else answered_by)
        response = self.client.post(path, data=form, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        db.session.expire_all()
        return response.get_data(as_text=True)


def _message_text(twiml: str) -> str:
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.fromstring(twiml)
    return " ".join((element.text or "") for element in root.iter("Message"))


def start_clock():
    return time_machine.travel(T0, tick=False)
