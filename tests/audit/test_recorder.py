"""The after_flush hook that writes the audit trail: what it records, for whom, and what it leaves out."""
from __future__ import annotations

import json
from datetime import time

from app.audit.recorder import MASK, acting_as
from app.auth import services as auth
from app.calendar import services as calendar
from app.calendar.models import Region
from app.extensions import db
from tests.audit.conftest import EMEA
from tests.conftest import PASSWORD, form_post


def test_creating_a_region_records_one_create_event_with_every_value_as_new(audit_events):
    region = calendar.create_region(**{**EMEA, "holiday_country": "gb"})

    [event] = audit_events()
    assert (event.action, event.entity_type, event.entity_id, event.entity_label) == \
        ("create", "regions", str(region.id), "EMEA")
    assert event.changes["id"] == [None, region.id]
    assert event.changes["name"] == [None, "EMEA"]
    assert event.changes["time_zone"] == [None, "Europe/London"]
    assert event.changes["business_start"] == [None, "09:00:00"]
    assert event.changes["business_end"] == [None, "17:00:00"]
    assert event.changes["holiday_country"] == [None, "GB"]  # the stored (cleaned) value, not the input
    assert "holiday_subdivision" not in event.changes  # nothing to say about a value that is not set
    assert all(before is None for before, _after in event.changes.values())


def test_changing_a_region_records_only_the_fields_that_changed(audit_events):
    region = calendar.create_region(**EMEA)

    calendar.update_region(region, **{**EMEA, "time_zone": "Europe/Paris", "business_end": time(18)})

    [event] = audit_events(action="update")
    assert (event.entity_type, event.entity_id, event.entity_label) == ("regions", str(region.id), "EMEA")
    assert event.changes == {"time_zone": ["Europe/London", "Europe/Paris"], "business_end": ["17:00:00", "18:00:00"]}


def test_a_rename_is_labelled_with_the_new_name(audit_events):
    region = calendar.create_region(**EMEA)

    calendar.update_region(region, **{**EMEA, "name": "Europe"})

    [event] = audit_events(action="update")
    assert event.entity_label == "Europe"
    assert event.changes == {"name": ["EMEA", "Europe"]}


def test_deleting_a_region_records_its_last_values_as_before(audit_events):
    region = calendar.create_region(**EMEA)
    region_id = region.id

    calendar.delete_region(region)

    [event] = audit_events(action="delete")
    assert (event.entity_type, event.entity_id, event.entity_label) == ("regions", str(region_id), "EMEA")
    assert event.changes["name"] == ["EMEA", None]
    assert event.changes["time_zone"] == ["Europe/London", None]
    assert event.changes["holiday_country"] == ["GB", None]
    assert all(after is None for _before, after in event.changes.values())
    assert len(audit_events()) == 2  # the create and the delete, nothing else


def test_deleting_a_region_records_that_its_people_lost_it(audit_events, make_user):
    region = calendar.create_region(**EMEA)
    region_id = region.id
    member = make_user("responder", region_id=region_id)

    calendar.delete_region(region)

    [event] = audit_events(action="update", entity_type="users")
    assert event.entity_id == str(member.id)
    assert event.changes == {"region_id": [region_id, None]}


def test_changes_outside_a_request_are_attributed_to_system_by_default(audit_events):
    calendar.create_region(**EMEA)

    [event] = audit_events()
    assert (event.actor_label, event.actor_id) == ("system", None)


def test_changes_inside_acting_as_are_attributed_to_that_label_and_only_inside_it(audit_events):
    with acting_as("cli"):
        region = calendar.create_region(**EMEA)
    calendar.update_region(region, **{**EMEA, "name": "Europe"})

    assert [(e.action, e.actor_label, e.actor_id) for e in audit_events()] == \
        [("create", "cli", None), ("update", "system", None)]


def test_a_change_made_in_the_web_ui_is_attributed_to_the_signed_in_user(login_as, audit_events):
    admin = login_as("admin")

    response = form_post(admin, "/regions/new", {"name": "EMEA", "time_zone": "Europe/London",
                                                 "business_start": "09:00", "business_end": "17:00"})

    assert response.status_code == 302
    [event] = audit_events(entity_type="regions")
    assert (event.action, event.actor_label, event.actor_id) == ("create", admin.user.email, admin.user.id)


def test_a_change_made_through_the_api_is_attributed_to_the_token_owner(api_as, audit_events):
    api = api_as("admin")

    response = api.post("/api/v1/regions", json={"name": "EMEA", "time_zone": "Europe/London",
                                                 "business_start": "09:00", "business_end": "17:00"})

    assert response.status_code == 201
    [event] = audit_events(entity_type="regions")
    assert (event.action, event.actor_label, event.actor_id) == ("create", api.user.email, api.user.id)


def test_a_password_change_is_recorded_with_both_hashes_masked(make_user, audit_events):
    user = make_user("responder")
    old_hash = user.password_hash

    auth.set_password(user, "a brand new passphrase")

    [created] = audit_events(entity_type="users", action="create")
    [changed] = audit_events(entity_type="users", action="update")
    assert created.changes["password_hash"] == [None, MASK]
    assert changed.changes == {"password_hash": [MASK, MASK]}
    whole_trail = json.dumps([e.changes for e in audit_events()])
    assert old_hash not in whole_trail
    assert user.password_hash not in whole_trail


def test_signing_in_only_touches_last_login_at_and_records_nothing(make_user, audit_events):
    user = make_user("responder")
    before = len(audit_events())

    assert auth.authenticate(user.email, PASSWORD) == user

    assert user.last_login_at is not None
    assert len(audit_events()) == before


def test_a_rolled_back_change_leaves_no_trace(audit_events):
    region = calendar.create_region(**EMEA)
    region.time_zone = "Europe/Paris"
    db.session.add(Region(name="APAC", time_zone="Asia/Manila", business_start=time(9), business_end=time(18)))
    db.session.flush()
    assert sorted(e.action for e in audit_events()) == ["create", "create", "update"]  # written with the change...

    db.session.rollback()

    assert [e.action for e in audit_events()] == ["create"]  # ...and gone with it


def test_saving_the_same_values_again_records_nothing(audit_events):
    region = calendar.create_region(**EMEA)

    calendar.update_region(region, **{**EMEA, "name": " EMEA ", "holiday_country": "gb"})  # cleaned to the same

    assert [e.action for e in audit_events()] == ["create"]


def test_setting_a_column_of_a_committed_record_to_its_current_value_records_nothing(audit_events):
    region = calendar.create_region(**EMEA)  # the commit expires every loaded value

    region.time_zone = "Europe/London"
    db.session.commit()

    assert [e.action for e in audit_events()] == ["create"]


def test_changing_a_column_of_a_committed_record_records_the_real_before_value(audit_events):
    region = calendar.create_region(**EMEA)  # the commit expires every loaded value

    region.time_zone = "Asia/Manila"
    db.session.commit()

    [event] = audit_events(action="update")
    assert event.changes == {"time_zone": ["Europe/London", "Asia/Manila"]}


def test_creating_an_api_token_is_recorded_with_its_hash_masked(make_user, audit_events):
    user = make_user("admin")

    token, secret = auth.create_token(user, name="monitoring")

    [event] = audit_events(entity_type="api_tokens")
    assert (event.action, event.entity_id) == ("create", str(token.id))
    assert event.entity_label == f"monitoring ({token.prefix}…)"
    assert event.changes["token_hash"] == [None, MASK]
    assert event.changes["name"] == [None, "monitoring"]
    stored = json.dumps(event.changes)
    assert token.token_hash not in stored
    assert secret not in stored


def test_using_an_api_token_only_touches_last_used_at_and_records_nothing(make_user, audit_events):
    user = make_user("admin")
    token, secret = auth.create_token(user, name="monitoring")
    before = len(audit_events())

    assert auth.user_for_token(secret) == user

    assert token.last_used_at is not None
    assert len(audit_events()) == before

