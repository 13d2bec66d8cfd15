"""The DR test pages: the execution page, step transitions through forms, evidence upload, findings, sign-off."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest

from app.drtests import exercises, findings, templates
from app.drtests.models import Evidence, FindingStatus, StepState
from app.extensions import db
from app.watchlist import services as watchlist
from tests.conftest import csrf_token_from, form_post

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def evidence_dir(app, tmp_path):
    app.config["DRTEST_EVIDENCE_DIR"] = str(tmp_path / "evidence")
    return tmp_path / "evidence"


def page(client, exercise):
    response = client.get(f"/drtests/exercises/{exercise.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post_on_page(client, exercise, url, data, **kw):
    token = csrf_token_from(page(client, exercise))
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=True, **kw)


def test_the_overview_lists_templates_and_exercises_with_empty_states(login_as, make_exercise, clock):
    client = login_as("executive")
    html = client.get("/drtests").get_data(as_text=True)
    assert "No DR test templates yet" in html and "No exercises scheduled yet" in html
    exercise = make_exercise()
    html = client.get("/drtests").get_data(as_text=True)
    assert exercise.name in html and "Template 1" in html


def test_a_crisis_team_member_creates_a_template_and_adds_steps(login_as):
    client = login_as("crisis_team")
    response = form_post(client, "/drtests/templates/new", {"name": "ERP", "systems": "ERP", "rto_minutes": "60",
                                                            "rpo_minutes": "15"})
    assert response.status_code == 302
    template = templates.list_templates()[0]
    url = f"/drtests/templates/{template.id}/steps"
    response = form_post(client, url, {"title": "Fail over", "phase": "failover", "expected_minutes": "20",
                                       "depends_on": "", "counts_toward_recovery": "y",
                                       "instructions": "Run `failover.sh`\n\n<script>x</script>"},
                         page_url=f"/drtests/templates/{template.id}")
    assert response.status_code == 302
    html = client.get(f"/drtests/templates/{template.id}").get_data(as_text=True)
    assert "<code>failover.sh</code>" in html and "<script>x</script>" not in html and "v2" in html
    bad = form_post(client, url, {"title": "Late", "phase": "close", "expected_minutes": "5", "depends_on": "7"},
                    page_url=f"/drtests/templates/{template.id}")
    assert bad.status_code == 422 and "earlier steps" in bad.get_data(as_text=True)


def test_the_execution_page_runs_steps_in_order_and_shows_the_clock(login_as, make_exercise, clock):
    exercise = make_exercise()
    client = login_as("responder")
    html = page(client, exercise)
    assert "Start step 1" in html and "Start step 2" not in html and "Waits for step 1" in html
    assert re.search(r'src="/static/js/drtest-clock.js\?v=[0-9a-f]+"', html) and "<script>" not in html
    first = exercise.steps[0]
    html = post_on_page(client, exercise, f"/drtests/exercises/{exercise.id}/steps/{first.id}/start",
                        {"version": first.version}).get_data(as_text=True)
    assert "Step 1 started." in html and 'data-started="2026-11-24T08:00:00+00:00"' in html
    clock.plus(9)
    html = page(client, exercise)
    assert "9 min" in html
    db.session.expire_all()
    html = post_on_page(client, exercise, f"/drtests/exercises/{exercise.id}/steps/{first.id}/complete",
                        {"version": first.version, "outcome": "ok", "notes": "batch frozen"}).get_data(as_text=True)
    assert "Step 1 completed." in html and "Start step 2" in html


def test_a_stale_page_gets_a_clear_message_and_changes_nothing(login_as, make_exercise, clock):
    exercise = make_exercise()
    alice, bob = login_as("crisis_team"), login_as("responder")
    first = exercise.steps[0]
    stale = first.version
    token = csrf_token_from(page(bob, exercise))
    post_on_page(alice, exercise, f"/drtests/exercises/{exercise.id}/steps/{first.id}/start", {"version": stale})
    response = bob.post(f"/drtests/exercises/{exercise.id}/steps/{first.id}/skip",
                        data={"version": stale, "reason": "bob thinks so", "csrf_token": token}, follow_redirects=True)
    assert "changed by someone else since you loaded it" in response.get_data(as_text=True)
    db.session.expire_all()
    assert first.state == StepState.RUNNING and first.skip_reason == ""


def test_evidence_files_are_stored_under_the_instance_folder_and_downloaded(login_as, make_exercise, clock,
                                                                            evidence_dir):
    exercise = make_exercise()
    client = login_as("responder")
    step = exercise.steps[0]
    url = f"/drtests/exercises/{exercise.id}/steps/{step.id}/evidence"
    html = post_on_page(client, exercise, url, {"file": (io.BytesIO(PNG), "screen.png"), "label": "Console"},
                        content_type="multipart/form-data").get_data(as_text=True)
    assert "Evidence added to step 1." in html
    record = db.session.scalars(db.select(Evidence)).one()
    assert (evidence_dir / record.stored_name).read_bytes() == PNG and record.size == len(PNG)
    download = client.get(f"/drtests/evidence/{record.id}")
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("name, data, message", [
    ("tool.exe", b"MZ...", "not accepted"),
    ("fake.png", b"MZ not a png", "not a .png file"),
    ("big.txt", b"x" * (1024 * 1024 + 1), "larger than 1 MB"),
])
def test_evidence_files_are_limited_in_type_and_size(app, login_as, make_exercise, clock, evidence_dir, name, data,
                                                     message):
    app.config["DRTEST_EVIDENCE_MAX_MB"] = 1
    exercise = make_exercise()
    client = login_as("responder")
    step = exercise.steps[0]
    html = post_on_page(client, exercise, f"/drtests/exercises/{exercise.id}/steps/{step.id}/evidence",
                        {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data").get_data(as_text=True)
    assert message in html
    assert db.session.scalars(db.select(Evidence)).first() is None
    assert not evidence_dir.exists() or not any(evidence_dir.iterdir())


def test_executives_read_the_exercise_but_cannot_work_it(login_as, make_exercise, clock):
    exercise = make_exercise()
    client = login_as("executive")
    html = page(client, exercise)
    assert "Start step 1" not in html
    step = exercise.steps[0]
    response = client.post(f"/drtests/exercises/{exercise.id}/steps/{step.id}/start",
                           data={"version": step.version, "csrf_token": csrf_token_from(html)})
    assert response.status_code == 403


def test_a_finding_is_recorded_and_turned_into_a_risk(login_as, make_exercise, clock):
    exercise = make_exercise()
    client = login_as("crisis_team")
    html = post_on_page(client, exercise, f"/drtests/exercises/{exercise.id}/findings",
                        {"title": "DNS TTL too long", "severity": "high", "due_date": "2026-12-15"}).get_data(
        as_text=True)
    assert "Finding recorded: DNS TTL too long." in html
    listing = client.get("/drtests/findings").get_data(as_text=True)
    finding = exercise.findings[0]
    response = client.post(f"/drtests/findings/{finding.id}/escalate",
                           data={"to": "risk", "back": "list", "csrf_token": csrf_token_from(listing)},
                           follow_redirects=True)
    db.session.expire_all()
    assert finding.status == FindingStatus.TO_RISK
    assert f"Handed to the risk register as risk #{finding.risk_ref}." in response.get_data(as_text=True)


def test_a_finding_is_tracked_as_an_action_on_the_risk_picked_in_the_list(login_as, make_exercise, make_risk,
                                                                          clock):
    risk = make_risk(title="Standby ERP drifts from production")
    client = login_as("crisis_team")
    finding = findings.add_finding(make_exercise(), title="Standby patch level behind", severity="medium",
                                   owner_id=client.user.id, due_date=date(2026, 12, 15))
    listing = client.get("/drtests/findings").get_data(as_text=True)
    assert f'<option value="{risk.id}">#{risk.id} Standby ERP drifts from production</option>' in listing

    response = client.post(f"/drtests/findings/{finding.id}/escalate",
                           data={"to": "action", "risk_id": risk.id, "back": "list",
                                 "csrf_token": csrf_token_from(listing)}, follow_redirects=True)

    html = response.get_data(as_text=True)
    assert f"Tracked as a mitigation action on risk #{risk.id}." in html
    assert f"on risk #{risk.id}</a>" in html
    db.session.expire_all()
    assert [a.description for a in risk.actions] == [
        f"DR finding from {finding.exercise.name} ({finding.exercise.quarter_label}): Standby patch level behind"]


def test_the_owner_signs_off_and_the_page_shows_the_frozen_record(login_as, make_template, make_exercise, clock):
    template = make_template(steps=[("Only", "failover", 5, "", True, False, False)])
    client = login_as("crisis_team")
    exercise = make_exercise(template=template, owner=client.user)
    step = exercise.steps[0]
    post_on_page(client, exercise, f"/drtests/exercises/{exercise.id}/steps/{step.id}/start", {"version": 1})
    clock.plus(5)
    db.session.expire_all()
    post_on_page(client, exercise, f"/drtests/exercises/{exercise.id}/steps/{step.id}/complete",
                 {"version": step.version, "outcome": "ok"})
    db.session.expire_all()
    post_on_page(client, exercise, f"/drtests/exercises/{exercise.id}/replication",
                 {"version": exercise.version, "last_replicated_at": "2026-11-24T07:58"})
    db.session.expire_all()
    html = post_on_page(client, exercise, f"/drtests/exercises/{exercise.id}/signoff",
                        {"version": exercise.version}).get_data(as_text=True)
    assert "Signed off: passed. The record is frozen." in html
    assert "Start step" not in html and "Sign off this exercise" not in html
    report = client.get(f"/drtests/exercises/{exercise.id}/report").get_data(as_text=True)
    assert "5 min" in report and "Signed off by" in report
    markdown = client.get(f"/drtests/exercises/{exercise.id}/report.md")
    text = markdown.get_data(as_text=True)
    assert markdown.mimetype == "text/markdown" and "Result: **passed**" in text
    assert re.search(r"\| Recovery time \(RTO\) \| 5 min \| 60 min \|", text)
    assert "| Data loss (RPO) | 2 min | 15 min |" in text


def test_scheduling_an_exercise_from_the_page(login_as, make_template, make_user, clock):
    template = make_template()
    client = login_as("crisis_team")
    helper = make_user("responder")
    response = form_post(client, "/drtests/exercises/new", {
        "template_id": template.id, "kind": "full_failover", "scheduled_for": "2026-12-05T09:00",
        "owner_id": client.user.id, "participant_ids": [helper.id]})
    assert response.status_code == 302
    exercise = db.session.scalars(exercises.exercises_query()).one()
    assert exercise.quarter_label == "Q4 FY27" and [p.user_id for p in exercise.participants] == [helper.id]
    assert exercise.name == f"{template.name} Q4 FY27"


def test_systems_that_are_watch_list_apps_link_to_them(make_template, login_as):
    erp = watchlist.save_app(None, name="ERP", criticality="critical", rto_minutes=240, rpo_minutes=60)
    template = make_template(systems="erp, Payroll interface")

    page = login_as("executive").get(f"/drtests/templates/{template.id}").get_data(as_text=True)

    assert f'<a href="/watchlist/apps/{erp.id}">erp</a>, Payroll interface' in page
