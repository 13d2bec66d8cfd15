"""Reading runbooks: the catalog, one runbook rendered safely, path safety, the API, links that answer 200."""
from __future__ import annotations

import pytest

from app.runbooks.sync import sync_runbooks
from tests.runbooks.support import table_of_contents, write

HOSTILE = """# Restart

<script>alert('x')</script>

[click me](javascript:alert(1)) and <img src=x onerror=alert(1)> and [other](other.md#step-2)

1. First step
2. Second step
"""


@pytest.fixture
def hostile(folder, owner):
    write(folder, "hostile.md", body=HOSTILE, owner=owner.email, systems=["Billing"])
    write(folder, "other.md", owner=owner.email)
    table_of_contents(folder, "hostile.md")
    sync_runbooks()


def test_a_runbook_is_rendered_without_raw_html_or_javascript_links(hostile, login_as):
    page = login_as("responder").get("/runbooks/hostile")
    html = page.get_data(as_text=True)
    body = html[html.index('data-testid="runbook-body"'):]
    body = body[:body.index("</div>")]
    assert page.status_code == 200
    assert "<script" not in body and 'href="javascript' not in body and "<img" not in body
    assert "&lt;script&gt;" in body  # shown as text, as typed
    assert '<a href="/runbooks/other#step-2"' in body  # a link to another file opens its page
    assert "<ol>" in body and "<li>First step</li>" in body
    assert 'href="#restart"' in html or "Contents" not in html


def test_the_catalog_groups_runbooks_by_system_with_their_flags(hostile, login_as):
    html = login_as("executive").get("/runbooks").get_data(as_text=True)
    assert html.index("Billing") < html.index("Other")
    assert 'data-testid="runbook-hostile"' in html and 'data-testid="runbook-other"' in html
    other = html[html.index('data-testid="runbook-other"'):]
    assert "not in the table of contents" in other[:2000]


@pytest.mark.parametrize("path", [
    "/runbooks/..", "/runbooks/..%2f..%2fconfig.py", "/runbooks/%2e%2e", "/runbooks/..%2Fsecret",
    "/runbooks/hostile%00", "/runbooks/%00", "/runbooks/Hostile", "/runbooks/~abc-hostile",
    "/runbooks/..%5c..%5cconfig", "/runbooks/other.md%2f..%2f..%2fconfig",
    "/api/v1/runbooks/..", "/api/v1/runbooks/hostile%00",
])
def test_slugs_that_are_not_slugs_answer_404(hostile, login_as, api_as, path):
    client = api_as("responder") if path.startswith("/api/") else login_as("responder")
    response = client.get(path)
    assert response.status_code == 404
    assert b"SECRET_KEY" not in response.data and b"load_config" not in response.data


def test_a_file_name_link_redirects_to_the_runbook(hostile, login_as):
    client = login_as("responder")
    response = client.get("/runbooks/other.md")
    assert response.status_code == 301 and response.headers["Location"].endswith("/runbooks/other")
    assert client.get("/runbooks/nothing.md").status_code == 404


def test_the_api_lists_runbooks_with_flags_and_reads_one_with_html_and_steps(hostile, api_as):
    api = api_as("executive")
    items = {item["slug"]: item for item in api.get("/api/v1/runbooks").get_json()["items"]}
    assert items["other"]["flags"] == ["unlisted"] and items["hostile"]["flags"] == []
    assert items["hostile"]["owner"] == "olive@example.com" and items["hostile"]["next_review_on"]
    one = api.get("/api/v1/runbooks/hostile").get_json()
    assert [step["title"] for step in one["steps"]] == ["First step", "Second step"]
    assert "<script" not in one["html"] and 'href="javascript' not in one["html"]


def test_reviews_are_for_the_owner_or_the_crisis_team(hostile, api_as, make_user, login_as):
    responder = api_as("responder")
    assert responder.post("/api/v1/runbooks/hostile/reviews", json={"outcome": "reviewed"}).status_code == 403
    crisis = api_as("crisis_team")
    bad = crisis.post("/api/v1/runbooks/hostile/reviews", json={"outcome": "changes_requested"})
    assert bad.status_code == 422 and "note" in bad.get_json()["fields"]
    done = crisis.post("/api/v1/runbooks/hostile/reviews", json={"outcome": "reviewed", "note": "Checked"})
    assert done.status_code == 201 and done.get_json()["review_state"] == "current"
    retired = crisis.post("/api/v1/runbooks/hostile/reviews", json={"outcome": "retired"})
    assert retired.get_json()["review_state"] == "retired"


def test_an_acknowledgement_is_of_the_current_version(hostile, api_as):
    api = api_as("responder")
    first = api.post("/api/v1/runbooks/hostile/acknowledgements")
    again = api.post("/api/v1/runbooks/hostile/acknowledgements")
    assert first.status_code == again.status_code == 201
    assert first.get_json()["content_hash"] == again.get_json()["content_hash"]


def test_runbooks_are_in_the_global_search(hostile, login_as):
    html = login_as("responder").get("/search?q=hostile").get_data(as_text=True)
    assert "Runbooks" in html and "/runbooks/hostile" in html


def test_every_runbook_link_of_the_demo_answers_200(app, login_as):
    """The demo's apps, alert details and runbooks link only to runbooks that exist."""
    import re

    from app.audit.recorder import acting_as
    from app.seed import seed_demo
    from app.watchlist.services import list_apps

    with acting_as("seed"):
        seed_demo()
    client = login_as("responder")
    links = {app_.runbook_url for app_ in list_apps() if app_.runbook_url}
    pages = [client.get("/runbooks").get_data(as_text=True), client.get("/alerts").get_data(as_text=True)]
    for page in pages:
        links |= set(re.findall(r'href="(/runbooks/[a-z0-9_-]+)"', page))
    assert "/runbooks/erp-failover-failback" in links and len(links) >= 6
    for link in sorted(links):
        assert client.get(link).status_code == 200, link
