"""URL values for the route walks (tests/test_access.py, tests/hostile/): one real record per URL parameter."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from pathlib import Path

from app.alerting import services as alerting
from app.alerting.health import ENGINE_HEARTBEAT
from app.auth import services as auth
from app.auth.roles import Role
from app.calendar import services as calendar
from app.extensions import db
from app.oncall import feeds, policies, rotations, schedules
from app.oncall import services as contacts
from app.system.services import record_heartbeat
from app.timeutil import utcnow
from tests.drtests.walk import walk_drtest_values
from tests.incidents.walk import walk_incident_values
from tests.readiness.walk import walk_readiness_values
from tests.risks.support import walk_risk_values
from tests.runbooks.support import walk_runbook_values
from tests.vendors.support import walk_vendor_values
from tests.watchlist.walk import walk_watchlist_values


def build_url_values(make_user: Callable, tmp_path: Path) -> dict[str, object]:
    """An object for every URL parameter the routes take, created the way the app creates them.

    `make_user(role)` creates a user; the records belong to a responder who is never the walker. `tmp_path` is an
    empty folder of the test's: the walk's runbook lives there (RUNBOOKS_DIR)."""
    region = calendar.create_region(name="Walk Region", time_zone="Asia/Manila", business_start=time(9),
                                    business_end=time(18))  # through the service, so it has a history
    owner = make_user(Role.RESPONDER)
    token, _raw = auth.create_token(owner, name="walked")  # not the walker's own token: revoking it is harmless
    record_heartbeat()  # /healthz answers 200 only with a fresh scheduler heartbeat ...
    record_heartbeat(ENGINE_HEARTBEAT)  # ... and a recent paging engine pass
    method = contacts.add_method(owner, owner, kind="sms", address="+14155552671")
    rule = contacts.add_rule(owner, owner, contact_method_id=method.id, delay_minutes=5)
    policy = policies.save_policy(None, name="Walk policy", steps=[{"delay_minutes": 5,
                                                                     "targets": [{"user_id": owner.id}]}])
    rotation = rotations.create_rotation(name="Walk rotation", time_zone="UTC", start_date=date(2026, 1, 5),
                                         start_time=time(9), handoff_kind="weekly", shift_length=1,
                                         member_ids=[owner.id])
    schedule = schedules.create_schedule(name="Walk schedule")
    layer = schedules.add_layer(schedule, rotation_id=rotation.id, time_zone="UTC", days=[0, 1, 2, 3, 4],
                                start_time=time(9), end_time=time(17))
    soon = utcnow().replace(microsecond=0) + timedelta(days=1)
    override = schedules.create_override(schedule, user_id=owner.id, mode="add", start_at=soon,
                                         end_at=soon + timedelta(hours=4))
    _feed, feed_secret = feeds.create_feed(owner)  # a real secret: the public feed answers 200, not 404
    alert, _created = alerting.raise_alert(summary="Walk alert", source="manual", escalation_policy_id=policy.id)
    db.session.commit()
    vendor_values = walk_vendor_values(owner)  # vendor_id, escalation_level_id, vendor_contact_id
    vendor_values.update(walk_watchlist_values(owner, policy))  # app_id, job_id, window_id, ping/badge keys
    vendor_values.update(walk_drtest_values(owner))  # template_id, exercise_id, step_id, evidence_id, finding_id
    vendor_values.update(walk_risk_values(owner))  # risk_id, action_id, link_id, review_id, item_id
    vendor_values.update(walk_readiness_values(owner))  # template_line_id, checklist_item_id
    vendor_values.update(walk_runbook_values(owner, tmp_path))  # slug, run_id, position (RUNBOOKS_DIR: tmp_path)
    vendor_values.update(walk_incident_values(owner, vendor_values["risk_id"]))  # incident_id, task_id, link_id ...
    return {"region_id": region.id, "user_id": owner.id, "token_id": token.id,
            "contact_method_id": method.id, "notification_rule_id": rule.id,
            "policy_id": policy.id, "alert_id": alert.id,
            "rotation_id": rotation.id, "member_id": rotation.members[0].id, "schedule_id": schedule.id,
            "layer_id": layer.id, "override_id": override.id, "secret": feed_secret,
            "entity_type": "regions", "entity_id": region.id, **vendor_values}
