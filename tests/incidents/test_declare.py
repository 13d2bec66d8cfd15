"""Declaring an incident: what it records, who is paged through the one door, and what it refuses."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.alerting import services as alerting
from app.alerting.models import Alert, OutboundMessage
from app.errors import Conflict, Invalid
from app.extensions import db
from app.incidents import services, severities
from app.incidents.models import Incident, IncidentAlert, IncidentEvent, IncidentLink, IncidentSubscription
from app.oncall import policies
from tests.incidents.conftest import NOW, reach


def events(incident) -> list[str]:
    return [event.kind for event in db.session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident.id).order_by(IncidentEvent.at, IncidentEvent.id))]


def page_alerts(incident) -> list[Alert]:
    return list(db.session.scalars(select(Alert).join(IncidentAlert, IncidentAlert.alert_id == Alert.id).where(
        IncidentAlert.incident_id == incident.id, IncidentAlert.role == "page").order_by(Alert.id)))


def test_declaring_it_yourself_records_you_as_commander_and_pages_nobody(app, clock, people, declare):
    incident = declare(title="  Billing run   failed ", summary="Exit 3 at 02:10")

    assert (incident.title, incident.status, incident.commander.name) == ("Billing run   failed", "investigating",
                                                                           "Rowan")
    assert incident.detected_at == incident.declared_at == incident.acknowledged_at == NOW
    assert events(incident) == ["declared"]
    assert page_alerts(incident) == []
    assert db.session.scalar(select(func.count()).select_from(OutboundMessage)) == 0


def test_declaring_for_someone_else_pages_them_through_raise_alert_and_their_ack_is_the_incidents(
        app, clock, people, declare):
    rowan, casey = people["rowan"], people["casey"]
    sms = reach(rowan, "sms", "+14155550101")

    incident = declare(by=casey, commander_id=rowan.id)

    [page] = page_alerts(incident)
    assert (page.source, page.policy_snapshot["name"], page.dedup_key) == (
        "incident", "Direct page to Rowan", f"incident:{incident.id}:commander:{rowan.id}")
    assert [m.contact_method_id for m in db.session.scalars(select(OutboundMessage))] == [sms.id]
    assert incident.acknowledged_at is None

    clock.shift(timedelta(minutes=4))
    alerting.act_and_commit(page.id, lambda a: alerting.acknowledge(a, actor="Rowan", via="SMS"))

    incident = db.session.get(Incident, incident.id)
    assert incident.acknowledged_at == NOW + timedelta(minutes=4)
    assert events(incident)[-1] == "acknowledged"


def test_a_sev1_pages_its_severitys_policy_and_subscribes_every_executive(app, clock, people, declare, make_user):
    oncall = make_user("responder", name="Quinn")
    reach(oncall, "sms", "+14155550199")
    policy = policies.save_policy(None, name="Crisis bridge", steps=[{"delay_minutes": 5,
                                                                      "targets": [{"user_id": oncall.id}]}])
    sev1 = severities.get_severity("SEV1")
    severities.save_severity(sev1, description=sev1.description, update_interval_minutes=30,
                             escalation_policy_id=policy.id)

    incident = declare(severity="SEV1")

    [page] = page_alerts(incident)
    assert (page.policy_id, page.severity, page.summary) == (policy.id, "critical",
                                                             f"INC-{incident.id} SEV1 declared: Billing run failed")
    subscribed = db.session.scalars(select(IncidentSubscription.user_id).where(
        IncidentSubscription.incident_id == incident.id, IncidentSubscription.source == "auto")).all()
    assert sorted(subscribed) == sorted([people["emery"].id, people["ellis"].id])


def test_a_sev3_subscribes_nobody_and_a_regrade_to_sev2_subscribes_the_executives(app, clock, people, declare):
    incident = declare(severity="SEV3")
    assert db.session.scalar(select(func.count()).select_from(IncidentSubscription)) == 0

    services.change_severity(incident, severity="SEV2", reason="Bookings stopped", actor=people["casey"])

    assert db.session.scalar(select(func.count()).select_from(IncidentSubscription)) == 2
    assert "severity" in events(incident)


def test_declaring_from_an_alert_links_it_acknowledges_it_and_counts_from_its_detection(
        app, clock, people, declare, make_app, make_job):
    job = make_job(app_id=make_app("ERP").id, name="billing-run")
    alert, _created = alerting.raise_alert(summary="billing-run missed", source="job", dedup_key=f"job:{job.id}")
    db.session.commit()
    clock.shift(timedelta(minutes=7))

    incident = declare(alert_id=alert.id)

    assert incident.detected_at == NOW and incident.declared_at == NOW + timedelta(minutes=7)
    assert db.session.get(Alert, alert.id).status == "acknowledged"
    link = db.session.scalar(select(IncidentLink).where(IncidentLink.incident_id == incident.id))
    assert (link.kind, link.target_id, link.label) == ("job", job.id, "billing-run")


def test_an_alert_is_part_of_one_incident_only(app, clock, people, declare):
    alert, _created = alerting.raise_alert(summary="Orders stuck", source="api")
    db.session.commit()
    first = declare(alert_id=alert.id)

    with pytest.raises(Conflict, match=f"already part of INC-{first.id}"):
        declare(title="Again", alert_id=alert.id)
    second = declare(title="Other")
    with pytest.raises(Conflict):
        services.attach_alert(second, alert_id=alert.id, actor=people["rowan"])


@pytest.mark.parametrize("fields, field", [
    ({"severity": "SEV5"}, "severity"),
    ({"severity": "critical"}, "severity"),
    ({"title": "   "}, "title"),
    ({"commander_id": 987654}, "commander_id"),
    ({"commander_id": -1}, "commander_id"),
    ({"alert_id": 2**40}, "alert_id"),
    ({"job_id": 424242}, "job_id"),
    ({"started_at": NOW + timedelta(minutes=1)}, "started_at"),
    ({"detected_at": NOW + timedelta(hours=1)}, "detected_at"),
    ({"started_at": NOW - timedelta(minutes=5), "detected_at": NOW - timedelta(minutes=10)}, "started_at"),
    ({"started_at": NOW.replace(tzinfo=None)}, "started_at"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(app, clock, people, declare, fields, field):
    with pytest.raises(Invalid) as refused:
        declare(**fields)

    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 0


def test_an_inactive_person_or_an_executive_cannot_be_commander(app, clock, people, declare):
    people["casey"].active = False
    db.session.commit()
    with pytest.raises(Invalid, match="active person"):
        declare(commander_id=people["casey"].id)
    with pytest.raises(Invalid, match="responder"):
        declare(commander_id=people["emery"].id)


def test_handing_the_commander_role_over_pages_the_new_commander_and_goes_on_the_timeline(
        app, clock, people, declare, make_user):
    taylor = make_user("crisis_team", name="Taylor")
    reach(taylor, "sms", "+14155550177")
    incident = declare()

    services.hand_over(incident, role="commander", user_id=taylor.id, actor=people["rowan"])
    services.hand_over(incident, role="scribe", user_id=people["casey"].id, actor=people["rowan"])

    incident = db.session.get(Incident, incident.id)
    assert (incident.commander.name, incident.scribe.name) == ("Taylor", "Casey")
    assert [a.summary.split(":")[0] for a in page_alerts(incident)] == [f"INC-{incident.id} SEV3"]
    texts = db.session.scalars(select(IncidentEvent.text).where(IncidentEvent.kind == "role")).all()
    assert texts == ["Incident commander: Rowan -> Taylor (by Rowan).", "Scribe: nobody -> Casey (by Rowan)."]
    with pytest.raises(Invalid, match="already holds"):
        services.hand_over(incident, role="scribe", user_id=people["casey"].id, actor=people["rowan"])


def test_correcting_an_instant_needs_a_reason_keeps_the_order_and_says_so_on_the_timeline(app, clock, people,
                                                                                         declare):
    incident = declare()
    with pytest.raises(Invalid) as refused:
        services.edit_instant(incident, name="started_at", value=NOW - timedelta(hours=1), reason=" ",
                              actor=people["rowan"])
    assert refused.value.field == "reason"
    with pytest.raises(Invalid) as refused:
        services.edit_instant(incident, name="started_at", value=NOW + timedelta(minutes=1), reason="later",
                              actor=people["rowan"])
    assert refused.value.field == "value"

    services.edit_instant(incident, name="started_at", value=NOW - timedelta(hours=1), reason="Logs show 09:00",
                          actor=people["rowan"])

    assert db.session.get(Incident, incident.id).started_at == NOW - timedelta(hours=1)
    text = db.session.scalar(select(IncidentEvent.text).where(IncidentEvent.kind == "instant"))
    assert text == "Started changed from empty to 2026-11-18 09:00 UTC by Rowan: Logs show 09:00"
    with pytest.raises(Invalid, match="cannot come after"):
        services.edit_instant(incident, name="detected_at", value=NOW - timedelta(hours=2), reason="earlier",
                              actor=people["rowan"])


def test_a_note_may_say_it_happened_earlier_but_never_in_the_future(app, clock, people, declare):
    incident = declare()
    services.add_note(incident, text="Vendor called back", actor=people["casey"],
                      happened_at=NOW - timedelta(minutes=30))
    with pytest.raises(Invalid) as refused:
        services.add_note(incident, text="Later", actor=people["casey"], happened_at=NOW + timedelta(minutes=5))

    assert refused.value.field == "happened_at"
    note = db.session.scalar(select(IncidentEvent).where(IncidentEvent.kind == "note"))
    assert (note.at, note.recorded_at) == (NOW - timedelta(minutes=30), NOW)
    assert events(incident) == ["note", "declared"]  # the timeline reads in the order things happened


def test_other_domains_put_events_on_the_timeline_and_runbooks_in_use_by_slug(app, clock, people, declare):
    incident = declare()

    services.record_event(incident, kind="dr_step", text="Failover started", actor="DR exercise")
    from app.incidents import links
    links.record_runbook_use(incident.id, slug="erp-failover-failback", outcome="ok", actor="Rowan",
                             title="ERP failover")
    db.session.commit()

    assert events(incident) == ["declared", "dr_step", "runbook", "runbook"]
    [runbook] = links.runbooks_of(incident)
    assert (runbook.runbook_slug, runbook.title, runbook.outcome) == ("erp-failover-failback", "ERP failover", "ok")
    with pytest.raises(Invalid):
        links.link_runbook(incident, slug="../etc/passwd", actor="x")
