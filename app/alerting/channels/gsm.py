"""Keeping SMS text inside the GSM-7 alphabet, so one segment holds 160 characters instead of 70.

A single character outside GSM-7 (a curly quote pasted from a document, an emoji) switches the whole
message to UCS-2: the segment shrinks to 70 characters and a page splits into several parts that can
arrive out of order. Alert text comes from people and other systems, so it is normalised on the way out.
"""
from __future__ import annotations

import unicodedata

# 3GPP TS 23.038 basic character set (the escape character itself is left out: it is not text).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each of these is sent as an escape plus the character, so it costs two.
GSM7_EXTENSION = frozenset("^{}\\[~]|€")

_REPLACEMENTS = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4\u0060", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00ad", "-"),
    **dict.fromkeys("\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t", " "),
    **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff", ""),
    "\u2026": "...",
    "\u2022": "-", "\u00b7": "-", "\u2023": "-", "\u2043": "-",
    "\u00d7": "x", "\u00f7": "/", "\u2044": "/",
    "\u2039": "<", "\u203a": ">", "\u2264": "<=", "\u2265": ">=", "\u2260": "!=",
    "\u2192": "->", "\u2190": "<-", "\u21d2": "=>",
    "\u00a9": "(c)", "\u00ae": "(R)", "\u2122": "TM", "\u00b0": " deg",
    "\u00e7": "c",
    "\u2028": "\n", "\u2029": "\n", "\u000b": " ", "\u000c": " ",
}


def _closest_gsm7(char: str) -> str:
    """A stand-in for one character outside GSM-7: its unaccented letter when there is one, else nothing."""
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    decomposed = unicodedata.normalize("NFKD", char)
    kept = "".join(c for c in decomposed if c in GSM7_BASIC or c in GSM7_EXTENSION)
    return kept


def to_gsm7(text: str) -> str:
    """Return `text` with every character in the GSM-7 basic or extension set; look-alikes replace the rest.

    Curly quotes, dashes, ellipses and odd spaces become their plain forms, accented letters lose the accent
    GSM-7 lacks (á -> a; é and ü stay), and what has no stand-in (emoji, CJK) is dropped. Line breaks are kept
    as "\\n". Applying it twice changes nothing.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for char in text:
        if char in GSM7_BASIC or char in GSM7_EXTENSION:
            out.append(char)
        else:
            out.append(_closest_gsm7(char))
    return "".join(out)


def gsm7_length(text: str) -> int:
    """How many GSM-7 septets `text` takes: extension characters count twice. `text` must already be GSM-7."""
    return sum(2 if char in GSM7_EXTENSION else 1 for char in text)


def fit_one_segment(text: str, limit: int = 160) -> str:
    """Return `text` in GSM-7, cut to at most `limit` septets with "..." at the end when it was longer.

    Extension characters ({ } [ ] ~ ^ | \\ €) count as two, as they do on the air.
    """
    text = to_gsm7(text)
    if gsm7_length(text) <= limit:
        return text
    budget = max(limit - 3, 0)
    used = 0
    kept = []
    for char in text:
        cost = 2 if char in GSM7_EXTENSION else 1
        if used + cost > budget:
            break
        kept.append(char)
        used += cost
    return "".join(kept).rstrip() + "..."[: limit]
