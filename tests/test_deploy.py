"""The deployment files in deploy/ say what the code does: the compose file is valid and names only variables
config.py reads, the systemd units run the real commands, the alert rules and the dashboard ask for metrics the
app exposes, and gunicorn accepts its configuration. (`docker compose config` is not available here.)"""
from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from app.drtests.demo import RESTORE_DRILL

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
# Read by the processes themselves rather than by config.py.
PROCESS_VARIABLES = {"PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY", "QD_BIND", "QD_THREADS", "QD_FORWARDED_ALLOW_IPS"}


def config_variables() -> set[str]:
    """Every environment variable config.py reads (its helpers take the name as a string literal)."""
    source = (ROOT / "config.py").read_text()
    names = set(re.findall(r'env(?:\.get)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
    names |= set(re.findall(r'\(env, "([A-Z][A-Z0-9_]+)"', source))
    names |= set(re.findall(r'name(?:, raw)? = "([A-Z][A-Z0-9_]+)"', source))
    return names


def metric_names() -> set[str]:
    """The metric families the app exposes (counted in app/metrics.py, read in app/system/metrics.py)."""
    names = set()
    for path in (ROOT / "app" / "metrics.py", ROOT / "app" / "system" / "metrics.py"):
        names |= set(re.findall(r'"(quarterdeck_[a-z_]+)"', path.read_text()))
    counters = set(re.findall(r'Counter\(\s*"(quarterdeck_[a-z_]+)"', (ROOT / "app" / "metrics.py").read_text()))
    return names | {f"{name}_total" for name in counters} | \
        {f"{name}_{suffix}" for name in names for suffix in ("bucket", "sum", "count")}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_postgres_redis_two_app_nodes_two_schedulers_and_a_proxy(compose):
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web-1", "web-2", "scheduler-1", "scheduler-2", "proxy"} == set(services)
    for name in ("scheduler-1", "scheduler-2"):
        assert services[name]["command"][-2:] == ["scheduler", "run"]
        assert services[name]["stop_signal"] == "SIGTERM"
    assert services["migrate"]["command"][-2:] == ["db", "upgrade"]
    for name in ("web-1", "web-2", "scheduler-1", "scheduler-2"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"


def test_compose_sets_only_variables_the_app_reads(compose):
    known = config_variables() | PROCESS_VARIABLES
    env_file = {line.split("=", 1)[0] for line in (DEPLOY / "compose.env.example").read_text().splitlines()
                if line and not line.startswith("#")}
    assert env_file <= known, env_file - known
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        if name in ("postgres",):
            continue
        assert set(environment) <= known, (name, set(environment) - known)
    web = compose["services"]["web-1"]["environment"]
    assert web["DATABASE_URL"].startswith("postgresql+psycopg://") and web["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert web["TRUSTED_PROXY_HOPS"] == "1"  # one proxy in front: nginx.conf sets X-Forwarded-* once


def test_the_environment_example_names_only_variables_the_app_reads():
    example = DEPLOY / "systemd" / "env.example"
    names = {line.split("=", 1)[0] for line in example.read_text().splitlines() if line and not line.startswith("#")}
    assert names <= config_variables() | PROCESS_VARIABLES, names - config_variables() - PROCESS_VARIABLES


@pytest.mark.parametrize("unit, command", [
    ("quarterdeck-web.service", "gunicorn -c deploy/gunicorn.conf.py wsgi:app"),
    ("quarterdeck-scheduler.service", "flask --app wsgi scheduler run"),
    ("quarterdeck-backup.service", "deploy/backup/backup.sh"),
])
def test_the_systemd_units_run_the_real_commands(unit, command):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(DEPLOY / "systemd" / unit)
    assert command in parser["Service"]["ExecStart"]
    assert (ROOT / command.split(" -c ")[-1].split()[0]).exists() or command.startswith(("flask", "gunicorn"))
    if unit != "quarterdeck-backup.service":
        assert parser["Service"]["KillSignal"] == "SIGTERM" and parser["Service"]["EnvironmentFile"]


def test_gunicorn_accepts_the_configuration(tmp_path):
    env = {**os.environ, "SECRET_KEY": "deploy-test-secret-key", "DATABASE_URL": f"sqlite:///{tmp_path / 'qd.db'}"}
    checked = subprocess.run([str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                              "--check-config", "wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alert_rules_and_the_dashboard_ask_for_metrics_the_app_exposes():
    exposed = metric_names()
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((DEPLOY / "grafana" / "quarterdeck.json").read_text())
    expressions += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    asked = {name for expression in expressions for name in re.findall(r"quarterdeck_[a-z_]+", expression)}
    assert asked and asked <= exposed, asked - exposed


def test_the_restore_drill_is_a_dr_test_template_in_the_demo(app):
    from app.drtests import templates
    from app.seed import seed_demo

    seed_demo()
    drill = [template for template in templates.list_templates() if template.name == RESTORE_DRILL]
    assert drill and drill[0].rto_minutes == 60 and "restore.sh" in drill[0].steps[1].instructions
    assert (DEPLOY / "backup" / "restore.sh").stat().st_mode & 0o111  # executable
