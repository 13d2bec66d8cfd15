"""/metrics: Prometheus text from every process and from the database, open to this host or a metrics token."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app import create_app
from app.alerting.services import raise_alert
from app.extensions import db
from app.watchlist import services as watchlist
from tests import support

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"


def sample(text: str, name: str, labels: str = "") -> float:
    """The value of one sample in Prometheus text (labels as written, e.g. 'state="triggered"')."""
    match = re.search(rf"^{re.escape(name)}{{{re.escape(labels)}}} (\S+)$" if labels
                      else rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert match, f"{name}{{{labels}}} not in the metrics"
    return float(match.group(1))


def test_metrics_answer_this_host_and_refuse_others(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 403


@pytest.mark.config(METRICS_TOKEN="scrape-me-please", METRICS_ALLOWED_NETWORKS=())
def test_a_metrics_token_opens_them_from_anywhere(client):
    far = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=far).status_code == 403
    assert client.get("/metrics", environ_base=far, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", environ_base=far,
                      headers={"Authorization": "Bearer scrape-me-please"}).status_code == 200


@pytest.mark.config(METRICS_ALLOWED_NETWORKS=("10.0.0.0/8",))
def test_the_allowed_networks_are_configurable(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403


def test_the_database_gauges_say_what_is_open_and_due(app, client, make_user):
    raise_alert(summary="No policy", source="api")  # pages nobody: unpaged at once
    job = watchlist.save_job(None, app_id=watchlist.save_app(None, name="ERP").id, name="Billing",
                             schedule_kind="interval", interval_minutes=60, grace_minutes=5, max_duration_minutes=30)
    db.session.commit()
    client.post(f"/ping/{job.ping_key}")
    client.get("/login")

    text = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)

    assert sample(text, "quarterdeck_alerts", 'state="triggered"') == 1
    assert sample(text, "quarterdeck_alerts_unpaged") == 1
    assert sample(text, "quarterdeck_jobs", 'state="up"') == 1
    assert sample(text, "quarterdeck_outbox_due") == 0
    assert sample(text, "quarterdeck_engine_lag_seconds") == float("inf")  # the engine never ran here
    assert sample(text, "quarterdeck_job_pings_total", 'signal="success"') >= 1
    assert sample(text, "quarterdeck_http_request_seconds_count", 'endpoint="auth.login"') >= 1
    assert "_created" not in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_through_gunicorn_with_two_workers_the_scrape_counts_the_pings_of_both(tmp_path):
    url = f"sqlite:///{tmp_path / 'qd.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url}, env=support.TEST_ENV)
    with app.app_context():
        db.create_all()
        job = watchlist.save_job(None, app_id=watchlist.save_app(None, name="ERP").id, name="Billing",
                                 schedule_kind="interval", interval_minutes=60, grace_minutes=5,
                                 max_duration_minutes=30)
        ping_key = job.ping_key
        db.session.remove()
        db.engine.dispose()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": url,
           "SECRET_KEY": support.TEST_ENV["SECRET_KEY"], "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           "PING_RATE_LIMIT": "10000 per minute"}
    access_log = tmp_path / "access.log"
    server = subprocess.Popen(
        [str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--no-control-socket",
         "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(r)s", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)

        def ping(_n: int) -> int:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/ping/{ping_key}", data=b"ok")
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status

        pings, pids = 0, set()
        while len(pids) < 2 and pings < 2000:  # until both workers have taken some
            with ThreadPoolExecutor(8) as pool:
                assert set(pool.map(ping, range(40))) == {200}
            pings += 40
            pids = {line.split()[0] for line in access_log.read_text().splitlines() if "/ping/" in line}
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    assert len(pids) == 2, f"one worker took every ping: {pids}"
    assert sample(text, "quarterdeck_job_pings_total", 'signal="success"') == pings
