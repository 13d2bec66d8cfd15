"""Test helpers shared by fixtures: where PostgreSQL and Chromium are, and whether they are mandatory."""
from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import datetime, timedelta

import psycopg
import time_machine

PG_ADMIN_URL = os.environ.get("QD_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
CHROMIUM = os.environ.get("QD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_ENV = {"SECRET_KEY": "test-secret-key-not-for-production"}
# A fast hash keeps hundreds of logins cheap; the default (scrypt) is tested on its own.
FAST_HASH = "pbkdf2:sha256:1000"
# Seconds a process the test started gets to stop after SIGTERM. They stop in a second or two; the bound is what a
# machine shared with the rest of the suite (and other work) may need, and what it catches is a stop that hangs.
STOP_BOUND = 60


def postgres_unavailable_reason() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({error.__class__.__name__})"


def chromium_unavailable_reason() -> str | None:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (Debian package 'chromium')"
    return None


def create_pg_database(prefix: str = "qd_test", *, wait_for_disk: bool = False) -> tuple[str, str]:
    """Create an empty database; returns (name, SQLAlchemy URL). Benchmarks pass wait_for_disk=True, so their commits
    cost what they cost in production."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        if not wait_for_disk:
            # A test database is dropped at the end of the run, so a commit need not wait for its WAL to reach the
            # disk (0.3 ms against 0.1 ms per commit here, over tens of thousands of commits). What every
            # connection sees once a commit returns is unchanged; only a crash of the server itself could lose it.
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return name, f"{base}/{name}"


def drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Clock:
    """A frozen clock: time stands still at its start until the test moves it (`move_to`/`at`, `shift`/`plus`)."""

    def __init__(self, start: datetime):
        self._traveller = time_machine.travel(start, tick=False)
        self._coordinates = self._traveller.start()

    def move_to(self, moment: datetime) -> None:
        self._coordinates.move_to(moment)

    at = move_to

    def shift(self, delta: timedelta | float) -> None:
        """Move forward by a timedelta or a number of seconds."""
        self._coordinates.shift(delta)

    def plus(self, minutes: float) -> None:
        self._coordinates.shift(timedelta(minutes=minutes))

    def stop(self) -> None:
        self._traveller.stop()


def frozen_at(moment: datetime):
    """Run a block at an instant: `with frozen_at(moment): ...` (the clock stands still inside)."""
    return time_machine.travel(moment, tick=False)


def pager_link(html: str, rel: str, pager: str | None = None) -> str | None:
    """The URL of a keyset list's Next (`rel="next"`) or Previous (`rel="prev"`) link, None when it has none;
    on a page with several lists, `pager` names the one to follow by its data-testid."""
    if pager is not None:
        found = re.search(rf'<nav class="pager"[^>]*data-testid="{pager}">(.*?)</nav>', html, re.S)
        html = found.group(1) if found else ""
    found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def walk_pages(client, url: str, read, pager: str | None = None) -> tuple[list, list]:
    """What `read(html)` finds on each page following Next from `url` to the end, then Previous from the last
    page back to the start: (forward, backward), each in list order (`pager`: see pager_link)."""
    forward, pages = [], []
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(read(html))
        forward += pages[-1]
        url, last = pager_link(html, "next", pager), html
    backward, url = list(pages[-1]), pager_link(last, "prev", pager)
    while url:
        html = client.get(url).get_data(as_text=True)
        backward = read(html) + backward
        url = pager_link(html, "prev", pager)
    return forward, backward
