"""The shape of the code holds: nothing registers itself on import, no import cycles, the linters pass."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from app import create_app
from app.audit import recorder
from app.database import _tune_sqlite
from tests import support

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_importing_the_app_registers_nothing():
    script = (
        "from sqlalchemy import Engine, event\n"
        "from sqlalchemy.orm import Session\n"
        "import app, app.audit.recorder as r, app.database as d, app.vendors.search as s, app.watchlist.search\n"
        "print(event.contains(Session, 'after_flush', r._record_audit_events),"
        " event.contains(Engine, 'connect', d._tune_sqlite), sorted(s._PROVIDERS))\n")
    result = _run([sys.executable, "-c", script])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "[]"]


def test_create_app_registers_listeners_and_search_once():
    for _ in range(2):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:"}, env=support.TEST_ENV)
    listeners = [fn for fn in Session.dispatch.after_flush._clslevel[Session] if fn is recorder._record_audit_events]
    assert len(listeners) == 1
    from sqlalchemy import Engine
    assert event.contains(Engine, "connect", _tune_sqlite)
    from app.vendors.search import _PROVIDERS
    assert {"vendors", "contacts", "apps", "jobs", "runbooks"} <= set(_PROVIDERS)


def test_no_import_cycles_and_the_layer_contracts_hold():
    result = _run([str(BIN / "lint-imports"), "--no-cache"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_finds_nothing():
    result = _run([str(BIN / "ruff"), "check", "--no-cache", "--quiet", "."])
    assert result.returncode == 0, result.stdout + result.stderr
