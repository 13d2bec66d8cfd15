"""The suite's own rule: missing PostgreSQL or Chromium skips locally with one line, and fails under CI=true."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = '''
from tests import support
from tests.conftest import require

def test_needs_chromium():
    require(support.chromium_unavailable_reason())
'''


def _run_probe(tmp_path: Path, ci: str) -> subprocess.CompletedProcess:
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE)
    # The probe needs none of the installed pytest plugins, whose loading is most of a pytest start (2.6 of 3 s).
    env = {**os.environ, "CI": ci, "QD_TEST_CHROMIUM": str(tmp_path / "no-chromium-here"),
           "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", str(probe),
                           "--rootdir", str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True)


def test_a_missing_browser_skips_with_the_reason_outside_ci(tmp_path):
    result = _run_probe(tmp_path, ci="")
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "Chromium not found" in result.stdout


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_missing_browser_fails_the_run_under_ci(tmp_path, ci):
    result = _run_probe(tmp_path, ci=ci)
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout
    assert "mandatory when CI=true" in result.stdout
