"""Hooks other domains register on alerting: badges saying what an alert is part of, listeners told of changes."""
from __future__ import annotations

import pytest

from app.alerting import services
from app.alerting.hooks import BADGES_KEY, LISTENERS_KEY, AlertBadge, register_alert_listener, register_badge_provider
from app.extensions import db


@pytest.fixture
def badge_provider(app):
    seen, marked = [], set()

    def provider(alert_ids):
        seen.append(list(alert_ids))
        return {alert_id: [AlertBadge("case", 7, f"Case 7 holds alert {alert_id}", "/cases/7")]
                for alert_id in alert_ids if alert_id in marked}

    register_badge_provider(app, provider)
    try:
        yield seen, marked
    finally:
        app.extensions[BADGES_KEY].remove(provider)


def raise_one(summary: str):
    alert, _created = services.raise_alert(summary=summary, source="api")
    db.session.commit()
    return alert


def test_the_alert_page_list_and_json_show_what_an_alert_is_part_of(app, login_as, api_as, badge_provider):
    seen, marked = badge_provider
    first, second = raise_one("In a case"), raise_one("On its own")
    marked.add(first.id)
    page = login_as("responder")

    alert_page = page.get(f"/alerts/{first.id}").get_data(as_text=True)
    listing = page.get("/alerts").get_data(as_text=True)
    body = api_as("executive").get("/api/v1/alerts").get_json()

    assert f"Case 7 holds alert {first.id}" in alert_page and 'href="/cases/7"' in alert_page
    assert f"Case 7 holds alert {first.id}" in listing and f"Case 7 holds alert {second.id}" not in listing
    by_id = {item["id"]: item["attached_to"] for item in body["items"]}
    assert by_id == {first.id: [{"kind": "case", "id": 7, "text": f"Case 7 holds alert {first.id}",
                                 "url": "/cases/7"}], second.id: []}
    assert sorted(seen[-1]) == sorted([first.id, second.id])  # the list asks once, for the page


def test_listeners_hear_of_acknowledgements_and_resolutions_in_the_same_transaction(app):
    heard = []

    def listener(alert, change, actor):
        heard.append((alert.id, change, actor, alert.status))

    register_alert_listener(app, listener)
    try:
        alert = raise_one("Listen")
        services.act_and_commit(alert.id, lambda a: services.acknowledge(a, actor="Rowan", via="web"))
        services.act_and_commit(alert.id, lambda a: services.acknowledge(a, actor="Rowan", via="web"))  # no change
        services.act_and_commit(alert.id, lambda a: services.resolve(a, actor="Casey", via="API"))
    finally:
        app.extensions[LISTENERS_KEY].remove(listener)

    assert heard == [(alert.id, "acknowledged", "Rowan", "acknowledged"), (alert.id, "resolved", "Casey", "resolved")]
