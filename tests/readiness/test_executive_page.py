"""The executive page (/readiness) renders each section from real data: business days to close per region, the
top five risks, open alerts and the trend since the quarter began and since last week."""
from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest

from app.alerting import services as alerting
from app.calendar.services import create_region
from app.extensions import db
from app.readiness.snapshots import take_snapshot
from app.risks import workflow
from app.risks.scoring import default_settings
from app.risks.settings import save_settings, settings_values
from tests.readiness.conftest import NOV_17

CRITICAL = {"likelihood": 5, "impact": 5, "inherent_likelihood": 5, "inherent_impact": 5}


def section(page: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by `heading_id`."""
    start = page.index(f'aria-labelledby="{heading_id}"')
    return page[start:page.index("</section>", start)]


def executive_page(login_as) -> str:
    response = login_as("executive", time_zone="UTC").get("/readiness")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_each_region_shows_its_own_business_days_to_close_and_bd0(app, login_as):
    create_region(name="EMEA", time_zone="Europe/London", business_start=time(8), business_end=time(17),
                  holiday_country="GB", holiday_subdivision="ENG")
    create_region(name="AMER", time_zone="America/Los_Angeles", business_start=time(7), business_end=time(17),
                  holiday_country="US")
    regions = section(executive_page(login_as), "regions-heading")
    # From Tuesday 17 November 2026 to Friday 29 January 2027 there are 53 weekdays. England loses Christmas,
    # the Boxing Day substitute (28 Dec) and New Year's Day; the US Thanksgiving, Christmas, New Year's Day and
    # Martin Luther King Jr. Day (18 Jan).
    assert re.search(r'<strong>EMEA</strong>: <span data-testid="days-left-\d+">50</span> business days', regions)
    assert re.search(r'<strong>AMER</strong>: <span data-testid="days-left-\d+">49</span> business days', regions)
    assert regions.count("(BD0 Fri 29 Jan)") == 2
    assert regions.index("AMER") < regions.index("EMEA")  # by name


def test_without_regions_the_close_is_counted_on_the_close_regions_calendar(app, login_as):
    page = executive_page(login_as)
    assert "No regions yet: counted on the close region's calendar, BD0 is Fri 29 Jan." in section(
        page, "regions-heading")
    assert re.search(r'data-testid="days-left">73</span>\s*<span class="label">days to close \(Fri 29 Jan\)', page)


def test_the_top_five_live_risks_by_level_then_exposure_newest_first_among_equals(app, login_as, make_risk, owner):
    crisis = make_risk(title="Ledger server failure", **CRITICAL)  # critical, 25
    make_risk(title="Tax engine outage", likelihood=4, impact=5, inherent_likelihood=5, inherent_impact=5)  # crit, 20
    make_risk(title="Bank file rejected", likelihood=5, impact=3, inherent_likelihood=5, inherent_impact=5)  # high, 15
    make_risk(title="Older twelve", likelihood=3, impact=4, inherent_likelihood=5, inherent_impact=5)  # high, 12
    make_risk(title="Newer twelve", likelihood=4, impact=3, inherent_likelihood=5, inherent_impact=5)  # high, 12
    make_risk(title="Sixth in line", likelihood=2, impact=5, inherent_likelihood=5, inherent_impact=5)  # high, 10
    make_risk(title="Merely medium", likelihood=3, impact=3, inherent_likelihood=5, inherent_impact=5)  # medium, 9
    closed = make_risk(title="Closed critical", **CRITICAL)
    workflow.change_status(closed, transition="close", actor=owner, reason="Server replaced")
    risks = section(executive_page(login_as), "risks-heading")
    titles = re.findall(r'<a href="/risks/\d+">([^<]+)</a>', risks)
    assert titles == ["Ledger server failure", "Tax engine outage", "Bank file rejected", "Newer twelve",
                      "Older twelve"]
    assert f'<a href="/risks/{crisis.id}">Ledger server failure</a>' in risks
    assert risks.count('<span class="pill red">critical</span>') == 2
    assert risks.count('<span class="pill red">high</span>') == 3


def test_a_higher_level_outranks_a_larger_likelihood_times_impact_in_the_top_risks(app, login_as, make_risk):
    # An administrator's grid where any risk of impact 5 is critical, however rare.
    values = settings_values(default_settings())
    values.update({f"cell_{likelihood}_5": "critical" for likelihood in range(1, 6)})
    save_settings(**values)
    make_risk(title="Likely and serious", likelihood=4, impact=4, inherent_likelihood=5, inherent_impact=5)  # 16
    make_risk(title="Rare but ruinous", likelihood=1, impact=5, inherent_likelihood=5, inherent_impact=5)  # 5
    risks = section(executive_page(login_as), "risks-heading")
    assert re.findall(r'<span class="pill red">(\w+)</span>\s*<a href="/risks/\d+">([^<]+)</a>', risks) == [
        ("critical", "Rare but ruinous"), ("high", "Likely and serious")]


def test_without_live_risks_the_section_says_so(app, login_as):
    assert "No live risks." in section(executive_page(login_as), "risks-heading")


def test_open_alerts_are_counted_and_the_five_newest_listed_with_their_status(app, login_as, clock):
    raised = {}
    for minute in range(1, 8):
        clock.move_to(NOV_17 + timedelta(minutes=minute))
        raised[minute], _created = alerting.raise_alert(summary=f"Alert {minute}", source="manual")
        db.session.commit()
    alerting.act_and_commit(raised[2].id, lambda alert: alerting.acknowledge(alert, actor="Casey", via="web"))
    alerting.act_and_commit(raised[3].id, lambda alert: alerting.resolve(alert, actor="Casey", via="web"))
    alerts = section(executive_page(login_as), "alerts-heading")
    assert "Open alerts and incidents (6)" in alerts
    listed = re.findall(r'<span class="pill (\w+)">(\w+)</span>\s*<a href="/alerts/(\d+)">(Alert \d)</a>', alerts)
    assert [(colour, status, summary) for colour, status, _id, summary in listed] == [
        ("red", "triggered", "Alert 7"), ("red", "triggered", "Alert 6"), ("red", "triggered", "Alert 5"),
        ("red", "triggered", "Alert 4"), ("amber", "acknowledged", "Alert 2")]
    assert [int(alert_id) for *_rest, alert_id, _summary in listed] == [raised[m].id for m in (7, 6, 5, 4, 2)]
    assert "17 Nov 12:07" in alerts
    assert "All 6 open alerts" in alerts  # Alert 1 is open but not listed; Alert 3 is resolved


def test_without_open_alerts_the_section_says_so(app, login_as):
    alert, _created = alerting.raise_alert(summary="Over already", source="manual")
    db.session.commit()
    alerting.act_and_commit(alert.id, lambda found: alerting.resolve(found, actor="Casey", via="web"))
    alerts = section(executive_page(login_as), "alerts-heading")
    assert "Open alerts and incidents (0)" in alerts and "No open alerts." in alerts
    assert "Over already" not in alerts


@pytest.fixture
def three_weeks_of_snapshots(app, make_risk, clock):
    """Snapshots on 27 October (last quarter, nothing tracked: 0), 3 November (85) and 10 November (70); today 52.

    Only the risks track has data, so the overall score is the risks score: each critical risk without a
    mitigation costs 15, and on 17 November the first risk's weekly review (due 10 November) is overdue (3).
    """
    clock.move_to(datetime(2026, 10, 27, 12, tzinfo=UTC))
    take_snapshot()
    for day in (3, 10, 17):
        clock.move_to(datetime(2026, 11, day, 12, tzinfo=UTC))
        make_risk(title=f"Critical risk of {day} November", **CRITICAL)
        if day < 17:
            take_snapshot()


def test_the_trend_shows_the_change_since_the_quarter_began_and_since_last_week(three_weeks_of_snapshots,
                                                                               login_as):
    page = executive_page(login_as)
    assert re.search(r'data-testid="overall-score">52<', page)
    trend = section(page, "trend-heading")
    assert "2 daily snapshots since 03 Nov" in trend  # last quarter's snapshot is not part of this trend
    assert "▼ -33 since the quarter began" in trend and "▼ -18 since last week" in trend
    # 85 and 70 on the score axis (0 at y 194, 100 at y 8), from the first day's x (34) to the last's (590) ...
    assert '<polyline points="34.0,35.9 590.0,63.8" class="line"/>' in trend
    # ... with its dates, the score axis at the colour thresholds, and the three bands behind the line
    assert ">03 Nov</text>" in trend and ">10 Nov</text>" in trend
    assert all(f'class="score-tick" x="30" y="{y}">{score}<' in trend for score, y in ((85, 39.9), (60, 86.4)))
    assert all(f'class="band band-{colour}"' in trend for colour in ("green", "amber", "red"))
    summary = section(page, "summary-heading")
    assert re.search(r'<span class="big">▼ -18</span><span class="label">since last week</span>', summary)


def test_with_fewer_than_two_snapshots_the_trend_says_it_is_waiting(app, login_as, make_risk):
    make_risk(title="Only risk", **CRITICAL)
    take_snapshot()
    trend = section(executive_page(login_as), "trend-heading")
    assert "Not enough daily snapshots yet" in trend and "<polyline" not in trend
