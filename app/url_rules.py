"""URL rules whose url_for builders are compiled when first used, not when the app is built.

Werkzeug turns every rule into two small Python functions for url_for (with and without unknown arguments) the
moment the rule is added: for Quarterdeck's 400-odd rules that was nine tenths of create_app() (188 ms, now 26)
in every process start (each gunicorn worker, the scheduler, every `flask` command). Most processes build few of
those URLs, and a job ping builds none. Matching is untouched: the rule's pattern is still compiled at once.

It overrides Rule._compile_builder, which is Werkzeug's own (not public) API: requirements.txt pins Werkzeug,
and tests/test_url_rules.py builds every rule of the app both ways and compares.
"""
from __future__ import annotations

from collections.abc import Callable

from werkzeug.routing import Rule

BUILDERS = {False: "_build", True: "_build_unknown"}  # Rule.compile's attribute for each kind of builder


class LazyBuilderRule(Rule):
    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compile_now = super()._compile_builder
        attribute = BUILDERS[append_unknown]

        def build_on_first_use(rule: Rule, /, **values) -> tuple[str, str]:
            # `rule` is positional-only: a URL argument may have that name too. Two threads may both get here
            # first: each compiles the same builder, and either one is kept.
            builder = compile_now(append_unknown).__get__(rule, None)
            setattr(rule, attribute, builder)
            return builder(**values)

        return build_on_first_use
