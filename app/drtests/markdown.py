"""A deliberately small Markdown subset for step instructions, rendered safe.

Everything is HTML-escaped first, then a few constructs are turned into tags we write ourselves: headings,
bullet and numbered lists, paragraphs, `code`, **bold**, *emphasis* and [links](https://...) to http(s) only.
Nothing the author types can become a tag or an attribute of their choosing.
"""
from __future__ import annotations

import re

from markupsafe import Markup, escape

_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((https?://[^\s)]{1,500})\)")
_CODE = re.compile(r"`([^`\n]{1,500})`")
_BOLD = re.compile(r"\*\*([^*\n]{1,500})\*\*")
_EM = re.compile(r"(?<![*\w])\*([^*\n]{1,500})\*(?![*\w])")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")


def _inline(text: str) -> str:
    html = str(escape(text))  # quotes escaped too, so the href below cannot be broken out of
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _EM.sub(r"<em>\1</em>", html)
    return _LINK.sub(r'<a href="\2" rel="noopener noreferrer">\1</a>', html)


def render_markdown(text: str | None) -> Markup:
    """Safe HTML for `text`; unknown syntax is shown as typed."""
    blocks: list[str] = []
    lines = (text or "").replace("\r\n", "\n").split("\n")
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            blocks.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if items:
            blocks.append(f"<{list_tag}>" + "".join(f"<li>{item}</li>" for item in items) + f"</{list_tag}>")
            items.clear()
            list_tag = ""

    for line in lines:
        bullet, numbered, heading = _BULLET.match(line), _NUMBERED.match(line), _HEADING.match(line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            level = len(heading.group(1)) + 2  # h3..h5: instructions sit under the page's own headings
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            tag = "ul" if bullet else "ol"
            if paragraph or (items and tag != list_tag):
                flush()
            list_tag = tag
            items.append(_inline((bullet or numbered).group(1)))
        else:
            if items:
                flush()
            paragraph.append(line.strip())
    flush()
    return Markup("\n".join(blocks))
