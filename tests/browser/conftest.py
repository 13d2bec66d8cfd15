"""Browser fixtures: the real app with demo data served on 127.0.0.1, and one headless system Chromium."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.audit.recorder import acting_as
from app.extensions import db
from app.seed import seed_demo
from tests import support
from tests.conftest import require


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[str]:
    """Quarterdeck with the demo company on a temp-file SQLite database; yields its base URL."""
    path = tmp_path_factory.mktemp("live") / "quarterdeck.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}, env=support.TEST_ENV)
    with app.app_context(), acting_as("seed"):
        db.create_all()
        seed_demo()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the session (never `playwright install`)."""
    require(support.chromium_unavailable_reason())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=support.CHROMIUM, args=support.CHROMIUM_ARGS,
                                              headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test; short timeouts so a broken journey fails fast."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(5000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture(scope="module")
def same_db_app(live_server, tmp_path_factory):
    """A second app on the live server's database (as the scheduler process has in production), for a test to
    set up what a journey starts from or to run the engine. The live_server fixture keeps its app to itself; its
    database is the one file under the session's numbered live<N>/ folder (tmp_path_factory.mktemp("live"))."""
    (path,) = tmp_path_factory.getbasetemp().glob("live[0-9]*/quarterdeck.db")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}, env=support.TEST_ENV)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
