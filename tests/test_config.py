"""Configuration: a malformed variable stops start-up with a message naming it; sensible defaults otherwise."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from config import INSTANCE_DIR, ConfigError, load_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Always give a key: without one load_config() would create instance/secret_key as a side effect.
GOOD_ENV = {"SECRET_KEY": "a-long-enough-secret-for-tests"}


@pytest.mark.parametrize(("name", "value"), [
    ("FISCAL_YEAR_START_MONTH", "13"),
    ("FISCAL_YEAR_START_MONTH", "0"),
    ("FISCAL_YEAR_START_MONTH", "x"),
    ("DEFAULT_TIME_ZONE", "Mars/Base"),
    ("CLOSE_TIME_ZONE", "PST"),
    ("DATABASE_URL", "mysql://x"),
    ("PUBLIC_BASE_URL", "ftp://x"),
    ("PUBLIC_BASE_URL", "https://"),
    ("SESSION_COOKIE_SECURE", "maybe"),
    ("SECRET_KEY", "too-short"),
    ("LOGIN_MAX_FAILURES", "0"),
    ("TRUSTED_PROXY_HOPS", "-1"),
    ("TRUSTED_PROXY_HOPS", "two"),
    ("SCHEDULER_HEARTBEAT_SECONDS", "-1"),
    ("HEALTH_MAX_HEARTBEAT_AGE", "soon"),
    ("LOG_LEVEL", "verbose"),
    ("LOG_FORMAT", "xml"),
    ("METRICS_ALLOWED_NETWORKS", "10.0.0.0/33"),
    ("SCHEDULER_METRICS_PORT", "70000"),
    ("ENGINE_LEASE_SECONDS", "5"),
    ("ENGINE_SEND_CONCURRENCY", "0"),
    ("HEALTH_UNPAGED_ALERT_SECONDS", "1"),
])
def test_a_malformed_variable_stops_start_up_naming_it(name, value):
    with pytest.raises(ConfigError) as raised:
        load_config({**GOOD_ENV, name: value})
    assert name in str(raised.value)


def test_defaults_need_no_variables_but_the_key():
    config = load_config(GOOD_ENV)
    assert config["FISCAL_YEAR_START_MONTH"] == 2
    assert config["DEFAULT_TIME_ZONE"] == "UTC"
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{INSTANCE_DIR / 'quarterdeck.db'}"
    assert config["SQLALCHEMY_DATABASE_URI"].endswith("/instance/quarterdeck.db")
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["SECRET_KEY"] == GOOD_ENV["SECRET_KEY"]


def test_blank_values_count_as_unset():
    config = load_config({**GOOD_ENV, "FISCAL_YEAR_START_MONTH": "  ", "DATABASE_URL": ""})
    assert config["FISCAL_YEAR_START_MONTH"] == 2
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_well_formed_values_are_used():
    config = load_config({**GOOD_ENV, "FISCAL_YEAR_START_MONTH": " 7 ", "DEFAULT_TIME_ZONE": "Asia/Manila",
                          "LOGIN_MAX_FAILURES": "3"})
    assert (config["FISCAL_YEAR_START_MONTH"], config["DEFAULT_TIME_ZONE"], config["LOGIN_MAX_FAILURES"]) == \
        (7, "Asia/Manila", 3)


@pytest.mark.parametrize("given", ["postgres://qd:pw@db.example:5432/qd", "postgresql://qd:pw@db.example:5432/qd"])
def test_postgres_urls_are_rewritten_to_the_psycopg_driver(given):
    config = load_config({**GOOD_ENV, "DATABASE_URL": given})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://qd:pw@db.example:5432/qd"


def test_a_psycopg_url_is_kept_as_given():
    url = "postgresql+psycopg://qd@127.0.0.1/qd"
    assert load_config({**GOOD_ENV, "DATABASE_URL": url})["SQLALCHEMY_DATABASE_URI"] == url


@pytest.mark.parametrize(("base_url", "secure"), [("https://qd.example.com", True), ("http://127.0.0.1:5000", False)])
def test_secure_session_cookies_follow_an_https_public_url(base_url, secure):
    config = load_config({**GOOD_ENV, "PUBLIC_BASE_URL": base_url})
    assert config["SESSION_COOKIE_SECURE"] is secure


def test_an_explicit_session_cookie_secure_wins_over_the_public_url():
    config = load_config({**GOOD_ENV, "PUBLIC_BASE_URL": "https://qd.example.com", "SESSION_COOKIE_SECURE": "false"})
    assert config["SESSION_COOKIE_SECURE"] is False


def test_the_wsgi_entry_point_exits_with_the_message_and_no_traceback():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SECRET_KEY": GOOD_ENV["SECRET_KEY"],
           "FISCAL_YEAR_START_MONTH": "13"}
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "FISCAL_YEAR_START_MONTH" in result.stderr
    assert "Quarterdeck cannot start" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_wsgi_entry_point_builds_the_app_when_the_config_is_sound(tmp_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SECRET_KEY": GOOD_ENV["SECRET_KEY"],
           "DATABASE_URL": f"sqlite:///{tmp_path / 'qd.db'}"}
    entry = "import gc, wsgi; print(wsgi.app.name, gc.isenabled(), gc.get_freeze_count() > 10_000)"
    result = subprocess.run([sys.executable, "-c", entry], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    # Start-up's objects are frozen out of later collections, and collection is back on.
    assert result.stdout.strip() == "app True True"
