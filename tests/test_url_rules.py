"""The app's URL rules compile their url_for builders on first use (app/url_rules.py), and build what Werkzeug's own
rules build."""
from __future__ import annotations

import pytest
from flask import url_for
from werkzeug.routing import IntegerConverter, Map, PathConverter, Rule

from app import create_app
from app.url_rules import LazyBuilderRule
from tests import support


@pytest.fixture(scope="module")
def built_app():
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, env=support.TEST_ENV)


def sample_values(rule: Rule, extra: bool) -> dict:
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = 4217
        elif isinstance(converter, PathConverter):
            values[name] = "folder/page name.md"
        else:
            values[name] = "a name/with ünïcode & spaces"
    if extra:
        values["next"] = "/risks?page=2"  # an unknown argument goes to the query string
    return values


def werkzeugs_own(rule: Rule, converters: dict) -> Rule:
    """The same rule as Werkzeug's plain Rule, bound to a map of its own with the app's converters."""
    plain = Rule(rule.rule, endpoint=rule.endpoint, methods=rule.methods, defaults=rule.defaults,
                 strict_slashes=rule.strict_slashes, merge_slashes=rule.merge_slashes)
    Map([plain], converters=converters)
    return plain


@pytest.mark.parametrize("append_unknown", [False, True])
def test_every_rule_builds_the_url_werkzeugs_own_rule_builds(built_app, append_unknown):
    rules = [rule for rule in built_app.url_map.iter_rules() if rule.endpoint != "static"]
    assert len(rules) > 300 and all(isinstance(rule, LazyBuilderRule) for rule in rules)
    converters = dict(built_app.url_map.converters)
    for rule in rules:
        values = sample_values(rule, extra=append_unknown)
        assert rule.build(values, append_unknown) == werkzeugs_own(rule, converters).build(values, append_unknown), \
            rule.rule


def test_a_builder_is_compiled_once_when_first_used_and_kept():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, env=support.TEST_ENV)
    [rule] = [rule for rule in app.url_map.iter_rules() if rule.endpoint == "risks.risk"]
    waiting = rule._build_unknown
    assert waiting.__func__.__name__ == "build_on_first_use"  # nothing compiled by create_app()

    with app.test_request_context():
        first = url_for("risks.risk", risk_id=7, tab="history")
        compiled = rule._build_unknown
        second = url_for("risks.risk", risk_id=8)

    assert (first, second) == ("/risks/7?tab=history", "/risks/8")
    assert compiled is not waiting and compiled.__func__.__name__.startswith("<builder:")
    assert rule._build_unknown is compiled  # kept: the second URL did not compile again


def test_a_url_argument_may_be_called_rule():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, env=support.TEST_ENV)
    app.add_url_rule("/rules/<rule>", "rule_page", lambda rule: rule)
    with app.test_request_context():
        assert url_for("rule_page", rule="r1") == "/rules/r1"
