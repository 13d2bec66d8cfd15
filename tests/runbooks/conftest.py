"""Runbook fixtures: an empty runbook folder per test (RUNBOOKS_DIR points at it), and its owner."""
from __future__ import annotations

import pytest
from flask import current_app

from app.runbooks.sync import sync_runbooks


@pytest.fixture
def folder(app, tmp_path):
    """An empty RUNBOOKS_DIR for this test; the app's config is put back afterwards by the app fixture."""
    path = tmp_path / "runbooks"
    path.mkdir()
    current_app.config["RUNBOOKS_DIR"] = str(path)
    return path


@pytest.fixture
def owner(make_user):
    return make_user("crisis_team", name="Olive Owner", email="olive@example.com", time_zone="UTC")


@pytest.fixture
def sync(app):
    return sync_runbooks
