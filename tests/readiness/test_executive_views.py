"""The executive page for someone who is not on the crisis team: a quarter picker, every reason reachable, the
score bands explained, and each track opening a plain-language page of its own."""
from __future__ import annotations

import re

from tests.readiness.test_executive_page import CRITICAL, executive_page, section


def test_the_quarter_picker_offers_past_quarters_and_the_next_one_with_the_shown_one_selected(app, login_as):
    page = executive_page(login_as)
    picker = page[page.index('data-testid="quarter-picker"'):page.index("</form>", page.index("quarter-picker"))]
    options = re.findall(r'<option value="([^"]+)"( selected)?>([^<]+)</option>', picker)
    assert len(options) == 6
    assert [label for _code, selected, label in options if selected] == ["Q4 FY27"]
    assert options[-1][2] == "Q1 FY28" and options[0][2] == "Q4 FY26"


def test_a_track_with_more_than_five_reasons_opens_the_rest_in_place(app, login_as, make_risk):
    for number in range(7):
        make_risk(title=f"Unmitigated critical risk {number}", **CRITICAL)
    tracks = section(executive_page(login_as), "tracks-heading")
    more = tracks[tracks.index('data-testid="more-reasons-risks"'):]
    more = more[:more.index("</details>")]
    hidden = int(re.search(r"<summary>(\d+) more reasons?</summary>", more).group(1))
    assert more.count("<li") == hidden >= 1  # the reasons past the fifth are on the page, one tap away


def test_the_score_bands_are_explained_on_the_page(app, login_as):
    summary = section(executive_page(login_as), "summary-heading")
    assert "What the score and colours mean" in summary
    assert re.search(r"<strong>Green</strong> is 85 or more, <strong>amber</strong> 60 to 84,\s*<strong>red</strong> "
                     r"below 60", summary)


def test_a_track_opens_a_plain_language_page_with_every_reason(app, login_as, make_risk):
    for number in range(7):
        make_risk(title=f"Unmitigated critical risk {number}", **CRITICAL)
    page = executive_page(login_as)
    assert re.search(r'<a href="/readiness/tracks/risks\?quarter=[^"]+">Risks</a>', page)
    client = login_as("executive")
    response = client.get("/readiness/tracks/risks")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Are the risks that threaten the close owned, scored, reviewed" in text
    reasons = text[text.index('data-testid="track-reasons"'):]
    tracks = section(page, "tracks-heading")
    shown = tracks[tracks.index('data-testid="track-risks"'):tracks.index("</details>")]
    assert reasons[:reasons.index("</ul>")].count("<li") == shown.count("<li") > 5  # every reason, none hidden
    assert "85 or more is green" in text


def test_an_unknown_track_is_not_found(app, login_as):
    assert login_as("executive").get("/readiness/tracks/nonsense").status_code == 404
