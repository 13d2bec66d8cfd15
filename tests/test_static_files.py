"""Stylesheets and scripts: linked with a digest of their content and, at that digest, cached for a year."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from app.auth.roles import Role
from app.static_files import ONE_YEAR_SECONDS, StaticDigests

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"
LINKED = re.compile(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]+)"')


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def linked_static_files(html: str) -> dict[str, str]:
    return dict(LINKED.findall(html))


def test_pages_link_every_stylesheet_and_script_at_the_digest_of_its_content(app, login_as):
    html = login_as(Role.CRISIS_TEAM).get("/").get_data(as_text=True)
    linked = linked_static_files(html)
    assert "/static/css/quarterdeck.css" in linked and "/static/js/nav.js" in linked
    for url, digest in linked.items():
        assert digest == digest_of(STATIC / url.removeprefix("/static/")), url
    unversioned = re.findall(r'(?:href|src)="(/static/[^"?]+)"', html)
    assert unversioned == []


def test_the_current_version_is_cached_for_a_year_without_asking_again(app, login_as):
    client = login_as(Role.RESPONDER)  # signed in: pages are no-store, the shared files are not
    url, digest = next(iter(linked_static_files(client.get("/").get_data(as_text=True)).items()))
    first = client.get(f"{url}?v={digest}")
    assert first.status_code == 200
    assert first.cache_control.max_age == ONE_YEAR_SECONDS
    assert first.cache_control.immutable and first.cache_control.public
    assert not first.cache_control.no_cache and not first.cache_control.no_store
    again = client.get(f"{url}?v={digest}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.cache_control.max_age == ONE_YEAR_SECONDS


@pytest.mark.parametrize("query", ["", "?v=0123456789ab", "?v="])
def test_a_missing_or_stale_version_is_revalidated_every_time(app, client, query):
    response = client.get(f"/static/css/quarterdeck.css{query}")
    assert response.status_code == 200
    assert response.cache_control.no_cache and response.cache_control.max_age is None
    assert not response.cache_control.immutable


def test_a_missing_file_is_a_plain_404(app, client):
    response = client.get("/static/css/no-such-file.css?v=0123456789ab")
    assert response.status_code == 404
    assert not response.cache_control.immutable


def test_a_digest_follows_the_content_of_its_file(tmp_path):
    (tmp_path / "css").mkdir()
    sheet = tmp_path / "css" / "site.css"
    sheet.write_text("body { color: black; }")
    digests = StaticDigests(str(tmp_path))
    first = digests.of("css/site.css")
    assert first == digest_of(sheet)
    assert digests.of("css/site.css") == first  # unchanged: the same digest (read from memory)

    sheet.write_text("body { color: navy; margin: 0; }")  # a deploy changed it: a new size, so read again
    assert digests.of("css/site.css") == digest_of(sheet) != first


@pytest.mark.parametrize("name", ["css/none.css", "css", "../secret.txt", "/etc/passwd"])
def test_no_digest_for_what_is_not_a_file_in_the_folder(tmp_path, name):
    (tmp_path / "css").mkdir()
    (tmp_path.parent / "secret.txt").write_text("not for the web")
    assert StaticDigests(str(tmp_path)).of(name) is None
