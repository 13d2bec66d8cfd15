"""The property-based client: schemathesis generates requests from /api/v1/openapi.json and sends them to the WSGI app.

Each operation gets `examples` positive cases (valid by the document, with the path ids of real records) and as
many negative ones (invalid by the document), sent as an administrator. Hypothesis runs derandomized, so a run
is repeatable. A response fails when it is a 5xx, or when its status, content type or body is not what the
document says.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)
from schemathesis.core.failures import FailureGroup

from app.api.openapi import build_document
from tests.hostile.walk import ErrorLog, capture_server_errors

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class FuzzReport:
    operations: int = 0
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)

    def distinct_server_errors(self) -> set[str]:
        return set(self.server_errors)


def _failure_titles(error: FailureGroup) -> list[str]:
    return sorted({getattr(failure, "title", type(failure).__name__) for failure in error.exceptions})


def run_property_based(app: Flask, *, token: str, path_values: dict[str, object], examples: int = 25,
                       operations: re.Pattern | None = None) -> FuzzReport:
    """Send `examples` positive and `examples` negative cases to every documented operation; collect failures."""
    document = build_document(app)
    schema = schemathesis.openapi.from_dict(document)
    report = FuzzReport()
    headers = {"Authorization": f"Bearer {token}"}
    log = ErrorLog()

    def send(case, label: str) -> None:
        log.last = ""
        with app.app_context():
            response = case.call(app=app, headers=headers)
        report.requests += 1
        where = f"{case.method.upper()} {case.operation.path}"
        if response.status_code >= 500:
            report.server_errors.append(f"{where} ({label}) -> {response.status_code} {log.last}".rstrip())
            return
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as error:
            for title in _failure_titles(error):
                report.mismatches.append(f"{where} ({label}) -> {response.status_code}: {title}")

    with capture_server_errors(log):
        for result in schema.get_all_operations():
            operation = result.ok()
            if operations is not None and not operations.search(operation.path):
                continue
            report.operations += 1
            names = re.findall(r"{(\w+)}", operation.path)
            fixed = {name: path_values[name] for name in names if name in path_values}
            for mode, label, params in ((GenerationMode.POSITIVE, "positive", fixed),
                                        (GenerationMode.NEGATIVE, "negative", None)):
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=params)

                @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
                @given(case=strategy)
                def explore(case):
                    send(case, mode_label)  # noqa: B023  (run at once, in this iteration)

                mode_label = label
                try:
                    explore()
                except Unsatisfiable:
                    if mode is GenerationMode.POSITIVE:  # an operation without inputs has no invalid request
                        report.mismatches.append(f"{operation.method.upper()} {operation.path}: no valid request")
                except Exception as error:  # noqa: BLE001 - a generation failure is a finding, not a crash
                    report.mismatches.append(f"{operation.method.upper()} {operation.path} ({label}): cannot "
                                             f"generate: {type(error).__name__}: {str(error)[:160]}")
    return report
