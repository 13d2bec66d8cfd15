"""The property-based client in the suite: schemathesis against the WSGI app on both databases, bounded in time.

Every operation of /api/v1/openapi.json gets a few positive and negative cases (derandomized, so a failure
repeats); any 5xx, or any status, content type or body the document does not describe, fails the test.
The operations are split in two halves so the halves run side by side under xdist.
"""
from __future__ import annotations

import re

import pytest

from app.auth import services as auth
from app.auth.roles import Role
from tests.hostile.fuzz import run_property_based
from tests.walk_values import build_url_values

EXAMPLES = 3
HALVES = {"a-l": re.compile(r"^/api/v1/[a-l]"), "m-z": re.compile(r"^/api/v1/[^a-l]")}


@pytest.mark.parametrize("half", sorted(HALVES))
def test_generated_requests_get_no_server_error_and_answers_the_document_describes(app, make_user, tmp_path, half):
    values = build_url_values(make_user, tmp_path)
    _token, raw = auth.create_token(make_user(Role.ADMIN), name="property-based")

    report = run_property_based(app, token=raw, path_values=values, examples=EXAMPLES, operations=HALVES[half])

    assert report.operations > 30 and report.requests > report.operations * EXAMPLES
    problems = report.server_errors + report.mismatches
    assert not problems, "\n".join(sorted(set(problems))[:60])
