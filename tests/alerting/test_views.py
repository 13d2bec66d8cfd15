"""Alert pages: the list, one alert with its timeline and messages, acknowledge / resolve / escalate, page
someone now, test messages from a person's page, and what the pages say when no provider is configured."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.alerting import actions, services
from app.alerting.engine import run_engine_tick
from app.alerting.models import Alert, AlertEvent, OutboundMessage
from app.extensions import db
from app.oncall import policies
from app.timeutil import UTC
from tests.alerting.test_actions import reachable
from tests.conftest import form_post

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
ACTORS = ["responder", "crisis_team", "admin"]
TWILIO_AND_SMTP = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "token",
                   "TWILIO_FROM_NUMBER": "+15005550006", "SMTP_URL": "smtp://127.0.0.1:2525"}
TWILIO_NOTICE = "Twilio is not configured: SMS and voice go to the console (see Messages)."


def squash(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def raise_one(summary: str = "ERP billing job missed its run", **fields) -> Alert:
    fields.setdefault("source", "manual")
    alert, _created = services.raise_alert(summary=summary, **fields)
    db.session.commit()
    return alert


def listed_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-testid="alert-(\d+)"', html)]


@pytest.fixture
def clock_start():
    return NOW


@pytest.fixture
def paged(make_user, clock):
    """An alert whose two-step policy paged Rowan (SMS) at step 1; step 2 (Sam) is due in 10 minutes."""
    rowan, sam = make_user("responder", name="Rowan"), make_user("responder", name="Sam")
    reachable(rowan, address="+14155550101")
    reachable(sam, address="+14155550102")
    policy = policies.save_policy(None, name="Billing", steps=[
        {"delay_minutes": 10, "targets": [{"user_id": rowan.id}]},
        {"delay_minutes": 10, "targets": [{"user_id": sam.id}]}])
    return raise_one(escalation_policy_id=policy.id, dedup_key="erp-billing", details="Job 42 exited 3")


# --- the list ----------------------------------------------------------------------------------------------

def test_the_list_shows_open_alerts_first_newest_first(login_as, clock):
    old, done, new = raise_one("old"), raise_one("done"), raise_one("new")
    clock.shift(timedelta(minutes=1))
    newest = raise_one("newest")
    services.act_and_commit(done.id, lambda a: services.resolve(a, actor="Priya", via="web"))
    services.act_and_commit(new.id, lambda a: services.acknowledge(a, actor="Priya", via="web"))

    html = login_as("executive").get("/alerts").get_data(as_text=True)

    assert listed_ids(html) == [newest.id, old.id, new.id, done.id]
    assert "3 open alerts" in squash(html)


def test_the_list_filters_by_status_and_severity(login_as):
    critical, low = raise_one("disk full", severity="critical"), raise_one("slow report", severity="low")
    client = login_as("responder")

    assert listed_ids(client.get("/alerts?severity=low").get_data(as_text=True)) == [low.id]
    services.act_and_commit(critical.id, lambda a: services.resolve(a, actor="Priya", via="web"))
    assert listed_ids(client.get("/alerts?status=resolved").get_data(as_text=True)) == [critical.id]
    assert listed_ids(client.get("/alerts?status=open&severity=critical").get_data(as_text=True)) == []


def test_an_unknown_filter_is_shown_as_a_form_error_with_every_alert_listed(login_as):
    alert = raise_one()

    response = login_as("responder").get("/alerts?status=closed")

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Not a valid choice" in html
    assert listed_ids(html) == [alert.id]


def test_an_empty_list_says_so_and_a_filter_with_no_match_offers_to_show_all(login_as):
    client = login_as("crisis_team")

    assert "No alerts yet." in client.get("/alerts").get_data(as_text=True)
    raise_one(severity="critical")
    assert "No alerts match these filters." in client.get("/alerts?severity=low").get_data(as_text=True)


def test_a_long_list_is_paged_and_the_pager_keeps_the_filters(login_as):
    for number in range(3):
        raise_one(f"alert {number}", severity="low")

    html = login_as("responder").get("/alerts?severity=low&per_page=2").get_data(as_text=True)

    assert len(listed_ids(html)) == 2
    assert "Showing 2 alerts" in html
    next_link = re.search(r'href="(/alerts\?[^"]*after=[^"]*)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "severity=low" in next_link and "per_page=2" in next_link
    assert len(listed_ids(login_as("executive").get(next_link).get_data(as_text=True))) == 1


def test_an_executive_has_readiness_first_and_alerts_among_the_five_places_of_the_bar(login_as):
    html = login_as("executive").get("/alerts").get_data(as_text=True)

    nav = re.findall(r'<li><a href="([^"]+)"', html)
    assert nav[0] == "/readiness" and "/alerts" in nav[:5]
    assert 'href="/alerts" data-place="alerts" aria-current="page"' in html  # the page being shown is marked


# --- one alert ---------------------------------------------------------------------------------------------

def test_the_alert_page_shows_facts_position_timeline_and_messages_in_the_viewers_zone(login_as, paged):
    client = login_as("executive", time_zone="Asia/Manila")

    html = client.get(f"/alerts/{paged.id}").get_data(as_text=True)
    text = squash(html)

    assert "#%d ERP billing job missed its run" % paged.id in text
    assert "erp-billing" in text and "Job 42 exited 3" in text and "Billing" in text
    # Next step due 10:10 UTC = 18:10 in Manila (UTC+8): named by offset and place ("PST" would be ambiguous).
    assert "Step 1 of 2 paged. Next: step 2 at 2026-11-18 18:10 UTC+8, Manila." in text
    timeline = squash(re.search(r'data-testid="timeline">(.*?)</ol>', html, re.S).group(1))
    assert timeline.index("triggered") < timeline.index("escalated")
    assert "2026-11-18 18:00:00 UTC+8, Manila" in timeline and "paging Rowan" in timeline
    messages = squash(re.search(r'data-testid="alert-messages">(.*?)</table>', html, re.S).group(1))
    assert "SMS" in messages and "+14155550101" in messages and "pending" in messages


def test_the_alert_page_shows_sends_and_errors_after_the_engine_ran(login_as, paged):
    run_engine_tick()

    html = login_as("responder").get(f"/alerts/{paged.id}").get_data(as_text=True)

    messages = squash(re.search(r'data-testid="alert-messages">(.*?)</table>', html, re.S).group(1))
    assert "sent" in messages and "via console" in messages
    assert "notified" in squash(html)


def test_an_unknown_alert_is_a_404(login_as):
    assert login_as("responder").get("/alerts/4242").status_code == 404


@pytest.mark.parametrize("role", ACTORS)
def test_people_who_may_act_acknowledge_with_one_click_and_it_is_on_the_timeline(login_as, paged, role):
    client = login_as(role, name="Priya")

    response = form_post(client, f"/alerts/{paged.id}/acknowledge", {}, page_url=f"/alerts/{paged.id}")

    assert response.status_code == 302 and response.headers["Location"] == f"/alerts/{paged.id}"
    alert = db.session.get(Alert, paged.id)
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", "Priya")
    event = db.session.scalars(select(AlertEvent).where(AlertEvent.alert_id == paged.id,
                                                        AlertEvent.kind == "acknowledged")).one()
    assert event.actor == "Priya" and "via web" in event.text
    page = client.get(f"/alerts/{paged.id}").get_data(as_text=True)
    assert "Acknowledged alert #%d" % paged.id in page


def test_acknowledging_again_says_who_already_did_and_when(login_as, paged, clock):
    services.act_and_commit(paged.id, lambda a: services.acknowledge(a, actor="Priya", via="SMS"))
    client = login_as("responder", time_zone="Europe/London")

    form_post(client, f"/alerts/{paged.id}/acknowledge", {}, page_url=f"/alerts/{paged.id}")

    page = client.get(f"/alerts/{paged.id}").get_data(as_text=True)
    assert f"Alert #{paged.id} was already acknowledged by Priya at 10:00 UTC, London." in page
    acknowledgements = db.session.scalars(select(AlertEvent).where(AlertEvent.alert_id == paged.id,
                                                                   AlertEvent.kind == "acknowledged")).all()
    assert len(acknowledgements) == 1


def test_resolving_with_a_note_closes_the_alert_and_drops_queued_messages(login_as, paged):
    client = login_as("crisis_team", name="Casey")

    form_post(client, f"/alerts/{paged.id}/resolve", {"note": "Re-ran job 42."}, page_url=f"/alerts/{paged.id}")

    alert = db.session.get(Alert, paged.id)
    assert (alert.status, alert.resolved_by) == ("resolved", "Casey")
    assert "Re-ran job 42." in squash(client.get(f"/alerts/{paged.id}").get_data(as_text=True))
    assert db.session.scalars(select(OutboundMessage.status).where(OutboundMessage.alert_id == paged.id)).all() \
        == ["dropped"]
    html = client.get(f"/alerts/{paged.id}").get_data(as_text=True)
    assert 'action="/alerts/%d/acknowledge"' % paged.id not in html  # nothing left to do


def test_a_too_long_note_is_shown_on_the_form_and_nothing_changes(login_as, paged):
    client = login_as("crisis_team")

    response = form_post(client, f"/alerts/{paged.id}/resolve", {"note": "x" * 301}, page_url=f"/alerts/{paged.id}")

    assert response.status_code == 422
    assert 'id="note-error"' in response.get_data(as_text=True)
    assert db.session.get(Alert, paged.id).status == "triggered"


def test_escalate_now_pages_the_next_step_at_once(login_as, paged):
    client = login_as("responder", name="Priya")

    form_post(client, f"/alerts/{paged.id}/escalate", {}, page_url=f"/alerts/{paged.id}")

    kinds = db.session.scalars(select(AlertEvent.kind).where(AlertEvent.alert_id == paged.id)
                               .order_by(AlertEvent.id)).all()
    assert kinds[kinds.index("escalate") + 1] == "escalated"
    assert "Step 2 of 2 paged" in squash(client.get(f"/alerts/{paged.id}").get_data(as_text=True))


def test_an_action_without_the_forms_token_changes_nothing(login_as, paged):
    response = login_as("responder").post(f"/alerts/{paged.id}/acknowledge")

    assert response.status_code in (302, 400)
    assert db.session.get(Alert, paged.id).status == "triggered"


def test_executives_read_alerts_but_see_no_buttons_and_are_refused_with_403(login_as, paged):
    client = login_as("executive")

    html = client.get(f"/alerts/{paged.id}").get_data(as_text=True)
    assert "Acknowledge</button>" not in html and "Escalate now" not in html
    for action in ("acknowledge", "resolve", "escalate"):
        assert form_post(client, f"/alerts/{paged.id}/{action}", {}, page_url=f"/alerts/{paged.id}").status_code == 403
    assert db.session.get(Alert, paged.id).status == "triggered"


# --- page someone now --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role, status", [("crisis_team", 200), ("admin", 200), ("responder", 403),
                                          ("executive", 403)])
def test_page_someone_now_is_for_the_crisis_team_and_admins(login_as, role, status):
    client = login_as(role)

    assert client.get("/alerts/page").status_code == status
    assert ("Page someone now" in client.get("/alerts").get_data(as_text=True)) == (status == 200)


def test_the_crisis_team_pages_a_person_now_and_the_engine_sends_it(login_as, make_user):
    rowan = make_user("responder", name="Rowan")
    reachable(rowan, address="+14155550199")
    client = login_as("crisis_team", name="Casey")

    response = form_post(client, "/alerts/page", {"target": f"user:{rowan.id}", "summary": "Call me: EU orders",
                                                   "severity": "high", "details": ""})

    alert = db.session.scalars(select(Alert)).one()
    assert response.headers["Location"] == f"/alerts/{alert.id}"
    assert (alert.summary, alert.severity, alert.source, alert.policy_snapshot["name"]) == \
        ("Call me: EU orders", "high", "manual", "Direct page to Rowan")
    run_engine_tick()
    sent = db.session.scalars(select(OutboundMessage).where(OutboundMessage.alert_id == alert.id)).one()
    assert (sent.address, sent.status, sent.channel) == ("+14155550199", "sent", "console")
    assert "Call me: EU orders" in sent.body


def test_the_crisis_team_pages_an_escalation_policy_now(login_as, make_user):
    rowan = make_user("responder")
    reachable(rowan)
    policy = policies.save_policy(None, name="Orders", steps=[{"delay_minutes": 5, "targets": [{"user_id": rowan.id}]}])

    form_post(login_as("admin"), "/alerts/page", {"target": f"policy:{policy.id}", "summary": "Orders stuck",
                                                   "severity": "critical"})

    alert = db.session.scalars(select(Alert)).one()
    assert (alert.policy_id, alert.source) == (policy.id, "manual")


def test_page_someone_now_marks_people_who_cannot_be_reached(login_as, make_user):
    reachable(make_user("responder", name="Rowan"))
    make_user("responder", name="Sam")

    html = login_as("crisis_team").get("/alerts/page").get_data(as_text=True)

    options = dict((label.split(" (")[0], label) for label in re.findall(r"<option[^>]*>([^<]+)</option>", html))
    assert "cannot be reached" not in options["Rowan"]
    assert "no usable notification rule: cannot be reached" in options["Sam"]


@pytest.mark.parametrize("data, field", [({"target": "", "summary": "Orders stuck"}, "target"),
                                         ({"target": "user:424242", "summary": "Orders stuck"}, "target"),
                                         ({"summary": "  "}, "summary")])
def test_page_someone_now_shows_what_is_missing_next_to_the_field(login_as, make_user, data, field):
    rowan = make_user("responder")
    client = login_as("crisis_team")

    response = form_post(client, "/alerts/page", {"target": f"user:{rowan.id}", "severity": "critical", **data})

    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert db.session.scalars(select(Alert)).all() == []


# --- providers not configured ------------------------------------------------------------------------------

def test_pages_say_plainly_when_twilio_and_email_are_not_configured(login_as, paged):
    client = login_as("crisis_team")

    for url in (f"/alerts/{paged.id}", "/alerts/page", "/messages"):
        text = squash(client.get(url).get_data(as_text=True))
        assert TWILIO_NOTICE in text, url
        assert "Email is not configured (SMTP_URL): email goes to the console (see Messages)." in text, url


@pytest.mark.config(**TWILIO_AND_SMTP)
def test_no_notice_when_twilio_and_email_are_configured(login_as, paged):
    client = login_as("crisis_team")

    for url in (f"/alerts/{paged.id}", "/alerts/page", "/messages"):
        assert 'data-testid="channel-notice"' not in client.get(url).get_data(as_text=True), url


# --- test my contact methods -------------------------------------------------------------------------------

def test_a_person_tests_their_own_methods_and_the_engine_sends_them_to_the_console(login_as):
    client = login_as("responder", name="Rowan")
    reachable(client.user, "sms", "+14155550111")
    reachable(client.user, "email", "rowan@example.com")
    person_url = f"/oncall/people/{client.user.id}"

    response = form_post(client, f"{person_url}/test-messages", {}, page_url=person_url)

    assert response.headers["Location"] == person_url
    assert "Queued 2 test messages; they go out within a few seconds. See Messages." in \
        client.get(person_url).get_data(as_text=True)
    assert run_engine_tick()["sent"] == 2
    messages = squash(client.get("/messages").get_data(as_text=True))
    assert messages.count("Quarterdeck test for Rowan") == 2
    assert db.session.scalars(select(OutboundMessage.status).where(OutboundMessage.purpose == "test")).all() \
        == ["sent", "sent"]


def test_the_crisis_team_tests_someone_elses_methods(login_as, make_user):
    rowan = make_user("responder", name="Rowan")
    reachable(rowan)
    client = login_as("crisis_team")
    person_url = f"/oncall/people/{rowan.id}"

    assert "Test Rowan&#39;s contact methods" in client.get(person_url).get_data(as_text=True)
    form_post(client, f"{person_url}/test-messages", {}, page_url=person_url)

    assert db.session.scalars(select(OutboundMessage.user_id).where(OutboundMessage.purpose == "test")).all() \
        == [rowan.id]


def test_another_responder_may_not_test_someones_methods(login_as, make_user):
    rowan = make_user("responder")
    reachable(rowan)
    client = login_as("responder")
    person_url = f"/oncall/people/{rowan.id}"

    assert 'data-testid="test-methods"' not in client.get(person_url).get_data(as_text=True)
    assert form_post(client, f"{person_url}/test-messages", {}, page_url=person_url).status_code == 403
    assert db.session.scalars(select(OutboundMessage)).all() == []


def test_testing_without_a_usable_method_is_refused_with_the_reason(login_as):
    client = login_as("responder", name="Rowan")
    reachable(client.user, verified=False)
    person_url = f"/oncall/people/{client.user.id}"

    form_post(client, f"{person_url}/test-messages", {}, page_url=person_url)

    assert "Rowan has no verified, enabled contact method to test" in client.get(person_url).get_data(as_text=True)
    assert db.session.scalars(select(OutboundMessage)).all() == []


def test_the_messages_page_still_lists_only_my_messages(login_as, make_user):
    client = login_as("responder")
    other = make_user("responder")
    reachable(client.user, address="+14155550111")
    reachable(other, address="+14155550999")
    actions.queue_test_messages(actor=other, person=other)
    actions.queue_test_messages(actor=client.user, person=client.user)

    html = client.get("/messages").get_data(as_text=True)

    assert "+14155550111" in html and "+14155550999" not in html
