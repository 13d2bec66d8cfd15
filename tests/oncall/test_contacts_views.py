"""The people pages: contact methods, verification, rules and the quarterly confirmation in the browser views."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.oncall import services as contacts
from app.oncall.models import ContactMethod, NotificationRule
from tests.conftest import form_post
from tests.oncall.conftest import last_code_sent


def text_of(response) -> str:
    return response.get_data(as_text=True)


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p id="{re.escape(field_id)}-error" class="error">([^<]*)</p>', html)
    return match.group(1) if match else ""


def person_url(person) -> str:
    return f"/oncall/people/{person.id}"


def post_on_page(client, person, url: str, data: dict | None = None):
    """Submit a form of the person page the way a browser does (CSRF token read from the page)."""
    return form_post(client, url, data or {}, page_url=person_url(person))


def method_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ContactMethod))


@pytest.fixture
def responder_client(login_as, contact_region_us):
    return login_as("responder", region_id=contact_region_us.id, name="Rowan Responder")


@pytest.mark.parametrize("role", ["responder", "executive", "crisis_team", "admin"])
def test_everyone_sees_who_can_be_phoned_and_who_has_confirmed(login_as, make_user, add_contact_method, role):
    ready = make_user("responder", name="Ready Rowan")
    add_contact_method(ready, "voice", verified=True)
    contacts.confirm_contacts(ready, ready)
    make_user("responder", name="Late Lee")
    client = login_as(role)

    everyone = text_of(client.get("/oncall/people"))
    assert "Ready Rowan" in everyone and "Late Lee" in everyone
    ready_row = re.search(r"Ready Rowan.*?</tr>", everyone, re.S).group(0)
    late_row = re.search(r"Late Lee.*?</tr>", everyone, re.S).group(0)
    assert ready_row.count('pill green">yes') == 2
    assert 'pill red">no' in late_row and "not yet" in late_row

    unconfirmed = text_of(client.get("/oncall/people?filter=unconfirmed"))
    assert "Late Lee" in unconfirmed and "Ready Rowan" not in unconfirmed


def test_a_responder_adds_a_number_and_verifies_it_with_the_code_from_their_messages(responder_client):
    me = responder_client.user
    added = post_on_page(responder_client, me, f"/oncall/people/{me.id}/contact-methods",
                         {"kind": "sms", "address": "(415) 555-2671", "label": "work mobile"})
    assert added.status_code == 302 and added.headers["Location"] == person_url(me)
    page = text_of(responder_client.get(person_url(me)))
    assert "+14155552671" in page and 'pill amber">unverified' in page
    method = db.session.scalar(select(ContactMethod))

    sent = post_on_page(responder_client, me, f"/oncall/contact-methods/{method.id}/send-code")
    assert sent.status_code == 302
    messages = text_of(responder_client.get("/messages"))
    code = re.search(r"Quarterdeck code: (\d{6})\.", messages).group(1)

    verified = post_on_page(responder_client, me, f"/oncall/contact-methods/{method.id}/verify", {"code": code})
    assert verified.status_code == 302
    page = text_of(responder_client.get(person_url(me)))
    assert 'pill green">verified' in page
    assert "a notification rule now uses it at once (0 minutes)" in page
    assert "cannot be phoned" not in page


def test_a_bad_number_is_refused_next_to_the_field_and_nothing_is_added(responder_client):
    me = responder_client.user
    response = post_on_page(responder_client, me, f"/oncall/people/{me.id}/contact-methods",
                            {"kind": "sms", "address": "12345"})
    assert response.status_code == 422
    assert "too short for US (+1)" in field_error(text_of(response), "address")
    assert method_count() == 0


def test_a_wrong_code_is_shown_under_that_methods_code_field(responder_client, add_contact_method):
    me = responder_client.user
    first = add_contact_method(me)
    second = add_contact_method(me, "email", "rowan@example.com")
    contacts.send_code(me, second)
    wrong = f"{(int(last_code_sent(second)) + 1) % 10**6:06d}"

    response = post_on_page(responder_client, me, f"/oncall/contact-methods/{second.id}/verify", {"code": wrong})
    assert response.status_code == 422
    html = text_of(response)
    assert "Wrong code; 4 tries left." in field_error(html, f"code-{second.id}")
    assert field_error(html, f"code-{first.id}") == ""
    assert f'<label for="code-{second.id}">Code</label>' in html and f'id="code-{second.id}"' in html
    letters = post_on_page(responder_client, me, f"/oncall/contact-methods/{second.id}/verify", {"code": "abc"})
    assert "Type the 6 digits" in field_error(text_of(letters), f"code-{second.id}")


def test_a_second_code_within_a_minute_is_refused_with_a_message(responder_client, add_contact_method):
    me = responder_client.user
    method = add_contact_method(me)
    post_on_page(responder_client, me, f"/oncall/contact-methods/{method.id}/send-code")
    again = post_on_page(responder_client, me, f"/oncall/contact-methods/{method.id}/send-code")
    assert again.status_code == 302
    assert "A code was sent less than a minute ago" in text_of(responder_client.get(person_url(me)))


@pytest.mark.parametrize("role", ["responder", "executive"])
def test_others_contact_details_are_read_only_below_the_crisis_team(login_as, make_user, add_contact_method, role):
    owner = make_user("responder")
    method = add_contact_method(owner)
    contacts.add_rule(owner, owner, contact_method_id=method.id, delay_minutes=0)
    client = login_as(role)

    page = text_of(client.get(person_url(owner)))
    assert "+14155552671" in page
    assert "Add a contact method" not in page and "Send code" not in page and "Delete" not in page
    for url, data in [(f"/oncall/people/{owner.id}/contact-methods", {"kind": "sms", "address": "+442079460958"}),
                      (f"/oncall/contact-methods/{method.id}/send-code", {}),
                      (f"/oncall/contact-methods/{method.id}/verify", {"code": "123456"}),
                      (f"/oncall/contact-methods/{method.id}/delete", {}),
                      (f"/oncall/people/{owner.id}/notification-rules", {"contact_method_id": method.id,
                                                                         "delay_minutes": 5}),
                      (f"/oncall/notification-rules/{method.rules[0].id}/delete", {})]:
        assert post_on_page(client, owner, url, data).status_code == 403, url
    assert method_count() == 1 and len(contacts.list_rules(owner)) == 1
    assert contacts.get_method(method.id).code_hash is None


def test_the_crisis_team_adds_and_deletes_someones_method(login_as, make_user):
    owner = make_user("responder")
    client = login_as("crisis_team")
    assert "Add a contact method" in text_of(client.get(person_url(owner)))
    assert post_on_page(client, owner, f"/oncall/people/{owner.id}/contact-methods",
                        {"kind": "email", "address": "Owner@Example.com"}).status_code == 302
    method = db.session.scalar(select(ContactMethod))
    assert (method.user_id, method.address) == (owner.id, "owner@example.com")
    assert post_on_page(client, owner, f"/oncall/contact-methods/{method.id}/delete").status_code == 302
    assert method_count() == 0


def test_rules_are_added_listed_by_delay_and_deleted(responder_client, add_contact_method):
    me = responder_client.user
    sms = add_contact_method(me)
    url = f"/oncall/people/{me.id}/notification-rules"
    for delay in (10, 2):
        assert post_on_page(responder_client, me, url, {"contact_method_id": sms.id, "delay_minutes": delay}
                            ).status_code == 302
    page = text_of(responder_client.get(person_url(me)))
    assert page.index("<td>2 min</td>") < page.index("<td>10 min</td>")
    assert 'pill grey">skipped' in page  # the method is not verified yet

    duplicate = post_on_page(responder_client, me, url, {"contact_method_id": sms.id, "delay_minutes": 2})
    assert duplicate.status_code == 422
    assert "already a rule" in field_error(text_of(duplicate), "delay_minutes")
    too_late = post_on_page(responder_client, me, url, {"contact_method_id": sms.id, "delay_minutes": 2000})
    assert field_error(text_of(too_late), "delay_minutes")

    rule = db.session.scalar(select(NotificationRule).where(NotificationRule.delay_minutes == 10))
    assert post_on_page(responder_client, me, f"/oncall/notification-rules/{rule.id}/delete").status_code == 302
    assert [r.delay_minutes for r in contacts.list_rules(me)] == [2]


def test_people_confirm_their_own_details_for_the_quarter(responder_client, make_user, add_contact_method):
    me = responder_client.user
    other = make_user("responder")
    confirm_button = "I confirm my contact details are correct"
    assert confirm_button not in text_of(responder_client.get(person_url(other)))
    assert confirm_button in text_of(responder_client.get(person_url(me)))

    refused = post_on_page(responder_client, me, f"/oncall/people/{me.id}/confirm")
    assert refused.status_code == 302
    assert "Verify at least one contact method" in text_of(responder_client.get(person_url(me)))

    add_contact_method(me, verified=True)
    post_on_page(responder_client, me, f"/oncall/people/{me.id}/confirm")
    page = text_of(responder_client.get(person_url(me)))
    assert 'pill green">confirmed' in page and confirm_button not in page
    assert post_on_page(responder_client, other, f"/oncall/people/{other.id}/confirm").status_code == 403


def test_an_unknown_person_or_method_is_a_404(responder_client):
    assert responder_client.get("/oncall/people/999").status_code == 404
    me = responder_client.user
    assert post_on_page(responder_client, me, "/oncall/contact-methods/999/send-code").status_code == 404
