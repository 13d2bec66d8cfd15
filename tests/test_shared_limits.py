"""Throttles shared by every worker: two gunicorn workers counting in the Redis server on 127.0.0.1:6379.

With memory:// each worker counted alone (2 workers let 10 sign-in failures through where 5 were allowed);
with RATELIMIT_STORAGE_URI=redis://... the limit holds whichever worker answers. Each run uses its own key
prefix and deletes its keys at the end.
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from app import create_app
from app.auth import services
from app.extensions import db
from tests import support
from tests.conftest import require
from tests.hostile.identities import user_factory
from tests.walk_values import build_url_values

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("QD_TEST_REDIS", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery"


def redis_unavailable_reason() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not here"
        return f"Redis at {REDIS_URL} is not reachable ({error.__class__.__name__})"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """Quarterdeck under gunicorn with 2 workers, SQLite in a folder of its own, throttles in Redis under a fresh
    prefix. The two tests share it: one counts sign-in failures for one address, the other pings of one job."""
    require(redis_unavailable_reason())
    import redis

    folder = tmp_path_factory.mktemp("shared-limits")
    prefix = f"qd-test-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, **support.TEST_ENV, "DATABASE_URL": f"sqlite:///{folder / 'qd.db'}",
           "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix, "LOGIN_MAX_FAILURES": "5",
           "PING_RATE_LIMIT": "5 per minute", "PASSWORD_HASH_METHOD": support.FAST_HASH, "LOG_LEVEL": "WARNING"}
    (folder / "runbooks").mkdir()
    # The database the workers will open, made here. Not with the Redis settings: the limiter is one object per
    # process, and this process goes on running other tests on its in-memory counts.
    setup = create_app(env={name: value for name, value in env.items() if not name.startswith("RATELIMIT_")})
    with setup.app_context():
        db.create_all()
        services.create_user(email="target@example.com", name="T", role="responder", password=PASSWORD)
        ping_key = build_url_values(user_factory(), folder / "runbooks")["ping_key"]
        db.session.remove()
        db.engine.dispose()
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", "2", "--bind",
                               f"127.0.0.1:{port}", "--no-control-socket", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/login", timeout=5)
                break
            except OSError:  # refused, reset or timed out while the workers start
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield base, ping_key
    finally:
        server.terminate()
        server.wait(timeout=30)
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"*{prefix}*"))
        if keys:
            client.delete(*keys)


def status_of(opener, request) -> int:
    try:
        return opener.open(request, timeout=30).status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_sign_in_lockout_holds_across_two_workers(shared_server):
    base, _ping = shared_server
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    statuses = []
    for attempt in range(12):  # a new connection each time: both workers answer
        body = urllib.parse.urlencode({"email": "target@example.com", "password": f"wrong {attempt}",
                                       "csrf_token": token}).encode()
        statuses.append(status_of(opener, urllib.request.Request(f"{base}/login", data=body)))
    assert statuses == [401] * 5 + [429] * 7


def test_the_ping_limit_holds_across_two_workers(shared_server):
    base, ping_key = shared_server
    opener = urllib.request.build_opener()
    statuses = [status_of(opener, urllib.request.Request(f"{base}/ping/{ping_key}")) for _n in range(12)]
    assert statuses == [200] * 5 + [429] * 7
