"""The one Markdown renderer: CommonMark (markdown-it-py) with raw HTML off, then an HTML sanitiser (nh3).

Used by runbooks and by the DR test templates' step instructions. Whatever an author types, the result holds only
the tags and attributes listed here, and links only to http(s), mailto, tel or relative addresses: raw HTML is
shown as text by the parser, and `javascript:` links are dropped by both the parser and the sanitiser.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

ALLOWED_TAGS = {"a", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "code",
                "pre", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "del", "s"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"},
                      **{f"h{level}": {"id"} for level in range(1, 7)}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
STEP_HEADING = re.compile(r"^\s*(\d{1,3})[.)]\s+(\S.*)$")
TITLE_MAX = 200

LinkRewriter = Callable[[str], str]


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str


@dataclass(frozen=True)
class Step:
    """A numbered step: a heading such as "### 3. Promote the standby" or an item of a top-level numbered list."""

    position: int  # 1, 2, 3 ... in document order
    title: str
    html: Markup  # the step's own instructions, sanitised


@dataclass
class Document:
    html: Markup
    headings: list[Heading] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    # every link target as written, before any rewriting, with the (1-based) line of the text it is on
    links: list[tuple[str, int]] = field(default_factory=list)


def _parser() -> MarkdownIt:
    # html=False: raw HTML in the source is shown as text, never passed through.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


_MD = _parser()


def sanitise_html(html: str) -> Markup:
    """Keep only the allowed tags, attributes and link schemes of `html`."""
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                            link_rel="noopener noreferrer", strip_comments=True))


def plain_text(inline: Token | None) -> str:
    """The words of an inline token without Markdown marks ("**Stop** `app`" -> "Stop app")."""
    if inline is None:
        return ""
    parts = [child.content for child in inline.children or [] if child.type in ("text", "code_inline")]
    parts = parts or [inline.content]
    return " ".join("".join(parts).split())


def anchor_for(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "section"
    anchor, n = base, 2
    while anchor in used:
        anchor, n = f"{base}-{n}", n + 1
    used.add(anchor)
    return anchor


def _rewrite_links(tokens: list[Token], rewrite: LinkRewriter | None, found: list[tuple[str, int]]) -> None:
    for token in tokens:
        for child in token.children or []:
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                found.append((href, token.map[0] + 1 if token.map else 0))
                if rewrite is not None:
                    child.attrSet("href", rewrite(href))


def _shift_headings(tokens: list[Token], offset: int) -> None:
    if offset:
        for token in tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(6, int(token.tag[1]) + offset)}"


def _close_index(tokens: list[Token], start: int) -> int:
    """Index of the token closing the one opened at `start`."""
    depth = 0
    for index in range(start, len(tokens)):
        depth += tokens[index].nesting
        if depth == 0:
            return index
    return len(tokens) - 1


def _render(tokens: list[Token]) -> Markup:
    return sanitise_html(_MD.renderer.render(tokens, _MD.options, {}))


def _heading_steps(tokens: list[Token]) -> list[Step]:
    steps = []
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        match = STEP_HEADING.match(plain_text(tokens[index + 1]))
        if not match:
            continue
        level = int(token.tag[1])
        end = next((later for later in range(index + 3, len(tokens)) if tokens[later].type == "heading_open"
                    and int(tokens[later].tag[1]) <= level), len(tokens))
        steps.append(Step(len(steps) + 1, match.group(2)[:TITLE_MAX], _render(tokens[index + 3:end])))
    return steps


def _list_steps(tokens: list[Token]) -> list[Step]:
    steps = []
    for index, token in enumerate(tokens):
        if token.type == "list_item_open" and token.level == 1 and _top_list_is_ordered(tokens, index):
            end = _close_index(tokens, index)
            inline = next((t for t in tokens[index:end] if t.type == "inline"), None)
            steps.append(Step(len(steps) + 1, plain_text(inline)[:TITLE_MAX] or f"Step {len(steps) + 1}",
                              _render(tokens[index + 1:end])))
    return steps


def _top_list_is_ordered(tokens: list[Token], item_index: int) -> bool:
    for index in range(item_index, -1, -1):
        if tokens[index].level == 0 and tokens[index].type.endswith("_list_open"):
            return tokens[index].type == "ordered_list_open"
    return False


def parse_document(text: str, *, rewrite_link: LinkRewriter | None = None, heading_offset: int = 0) -> Document:
    """Render `text` safely, with an anchor on every heading, its numbered steps and its link targets.

    Steps are the headings that start with a number ("### 3. Promote the standby"); a document without such
    headings uses the items of its top-level numbered lists instead.
    """
    tokens = _MD.parse(text or "")
    links: list[tuple[str, int]] = []
    _rewrite_links(tokens, rewrite_link, links)
    headings, used = [], set()
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            words = plain_text(tokens[index + 1])
            anchor = anchor_for(words, used)
            token.attrSet("id", anchor)
            headings.append(Heading(int(token.tag[1]) + heading_offset, words, anchor))
    steps = _heading_steps(tokens) or _list_steps(tokens)
    _shift_headings(tokens, heading_offset)
    return Document(html=_render(tokens), headings=headings, steps=steps, links=links)


def render_markdown(text: str | None, *, heading_offset: int = 0) -> Markup:
    """Safe HTML for `text`; `heading_offset` demotes headings (2: "#" becomes <h3>, for text inside a page)."""
    tokens = _MD.parse(text or "")
    _shift_headings(tokens, heading_offset)
    return _render(tokens)
