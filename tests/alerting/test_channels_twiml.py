"""The TwiML a paging call is answered with: the alert twice, then the keypad menu; or a line and hang up."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from app.alerting.channels.twilio_voice import MENU_PROMPT, menu_twiml, say_twiml

GATHER_URL = "https://qd.example.com/twilio/voice/gather?message_id=7"


def test_the_menu_says_the_alert_twice_then_gathers_one_digit_posted_to_the_gather_url():
    root = ET.fromstring(menu_twiml("Alert 12: ERP billing job missed its run.", GATHER_URL))

    assert root.tag == "Response"
    verbs = [child.tag for child in root]
    assert verbs == ["Say", "Pause", "Say", "Gather", "Say", "Hangup"]  # the alert, a breath, the alert again
    says_before_gather = [c.text for c in root[: verbs.index("Gather")] if c.tag == "Say"]
    assert says_before_gather == ["Alert 12: ERP billing job missed its run."] * 2
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == GATHER_URL
    assert gather.get("method") == "POST"
    assert [c.text for c in gather if c.tag == "Say"] == [MENU_PROMPT]
    assert "4 to acknowledge" in MENU_PROMPT and "6 to resolve" in MENU_PROMPT
    assert "5 to escalate" in MENU_PROMPT and "star to repeat" in MENU_PROMPT


def test_the_menu_says_goodbye_and_hangs_up_when_no_key_is_pressed():
    root = ET.fromstring(menu_twiml("Alert", GATHER_URL))
    after_gather = [child for child in root][[c.tag for c in root].index("Gather") + 1:]

    assert [c.tag for c in after_gather] == ["Say", "Hangup"]
    assert "Goodbye" in after_gather[0].text


def test_text_with_markup_characters_is_spoken_not_parsed():
    root = ET.fromstring(menu_twiml("Disk <90%> & rising", GATHER_URL))
    assert root.find("Say").text == "Disk <90%> & rising"


def test_say_twiml_says_the_text_once_and_hangs_up():
    root = ET.fromstring(say_twiml("Acknowledged alert 12."))

    assert [(c.tag, c.text) for c in root] == [("Say", "Acknowledged alert 12."), ("Hangup", None)]
