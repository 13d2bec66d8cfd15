"""Links people store (DR evidence, runbooks, vendor portals, checklist evidence): which ones may become a link.

A stored link is either an absolute http(s) URL with a host, or a path on this site starting with exactly one
"/" (never "//host" or "/\\host", which browsers read as another site). Anything else is refused when it is
saved, and a value stored before this rule that fails it is shown as text, never linked or redirected to.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from app.errors import Invalid

# Control characters and whitespace make browsers repair a URL in ways that differ from how it was checked.
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\\\]")


def is_safe_link(value: object) -> bool:
    """True for an absolute http(s) URL with a host, or a same-site path starting with a single '/'."""
    if not isinstance(value, str) or not value or _UNSAFE_CHARACTERS.search(value):
        return False
    if value.startswith("/"):
        return not value.startswith("//")
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)


def is_external(value: str) -> bool:
    return not value.startswith("/")


def clean_link(value: object, field: str, max_length: int) -> str:
    """The stripped link, or "" when empty; raises Invalid naming `field` for anything that is not safe."""
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        return ""
    if len(text) > max_length:
        raise Invalid(f"Use at most {max_length} characters.", field)
    if not is_safe_link(text):
        raise Invalid("Use a web address starting with https:// (or http://), or a path on this site starting "
                      "with a single /.", field)
    return text
