"""SMS text stays inside GSM-7 so a page fits 160 characters, and is cut to one segment where asked."""
from __future__ import annotations

import pytest

from app.alerting.channels.gsm import GSM7_BASIC, GSM7_EXTENSION, fit_one_segment, gsm7_length, to_gsm7


@pytest.mark.parametrize(("given", "sent"), [
    ("\u201cquoted\u201d and \u2018single\u2019", "\"quoted\" and 'single'"),
    ("en \u2013 em \u2014 minus \u2212", "en - em - minus -"),
    ("wait\u2026", "wait..."),
    ("no\u00a0break\u202fthin\u2009space\ttab", "no break thin space tab"),
    ("zero\u200bwidth\ufeff", "zerowidth"),
    ("caf\u00e1 cr\u00e8me na\u00efve \u00e7a", "cafa crème naive ca"),
    ("ERP job \U0001F525 failed \u2705", "ERP job  failed "),
    ("\u6f22\u5b57", ""),
    ("line one\r\nline two\rthree", "line one\nline two\nthree"),
    ("\u2022 item \u00d7 2 \u2192 done", "- item x 2 -> done"),
])
def test_text_is_brought_into_gsm7(given, sent):
    assert to_gsm7(given) == sent


def test_gsm7_text_passes_through_unchanged():
    text = "Ack #12: ERP [billing] {job} ~ 5€ ^ | \\ @£$¥ èéùìò ÄÖÑÜ äöñüà ¿¡ §"
    assert to_gsm7(text) == text


def test_normalising_twice_changes_nothing():
    once = to_gsm7("\u201cCl\u00f4ture\u201d \u2014 Q3\u2026 \U0001F4C5")
    assert to_gsm7(once) == once
    assert set(once) <= GSM7_BASIC | GSM7_EXTENSION


def test_extension_characters_count_twice():
    assert gsm7_length("abc") == 3
    assert gsm7_length("{x}") == 5
    assert gsm7_length("5€") == 3


def test_text_that_fits_one_segment_is_left_whole():
    text = "x" * 160
    assert fit_one_segment(text) == text


def test_longer_text_is_cut_to_160_with_an_ellipsis():
    fitted = fit_one_segment("word " * 60)
    assert gsm7_length(fitted) <= 160
    assert fitted.endswith("...")
    assert fitted.startswith("word word")


def test_cutting_counts_extension_characters_as_two():
    fitted = fit_one_segment("[" * 100)
    assert fitted == "[" * 78 + "..."
    assert gsm7_length(fitted) == 159


def test_fitting_normalises_first_so_a_curly_quote_does_not_shrink_the_segment():
    fitted = fit_one_segment("\u201c" + "a" * 158 + "\u201d")
    assert fitted == '"' + "a" * 158 + '"'


def test_a_custom_limit_is_respected():
    assert fit_one_segment("abcdefghij", limit=8) == "abcde..."
