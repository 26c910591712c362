"""A contact's banners, as the seed's dealer portal shows them."""

from __future__ import annotations

from gateway.core.banners import Banner, contact_banners

BASE = dict(phone="+15550123456", phone_status="unknown", line_type=None, welcome="none", welcome_error=None,
            welcome_error_code=None, opted_out=False)


def tones(**fields) -> list[tuple[str, str]]:
    return [(b.tone, b.label) for b in contact_banners(**{**BASE, **fields})]


def test_the_guides_four_banners():
    assert tones(phone_status="valid", line_type="mobile") == [("green", "Valid number")]
    assert tones(phone_status="valid", welcome="pending") == [("green", "Valid number"),
                                                              ("yellow", "Pending confirmation")]
    assert tones(phone_status="valid", welcome="confirmed") == [("green", "Valid number"), ("blue", "Confirmed")]
    assert tones(welcome="send_error", welcome_error_code="30006") == [("red", "Send error")]


def test_a_send_error_explains_the_carriers_code_in_words():
    [banner] = contact_banners(**{**BASE, "welcome": "send_error", "welcome_error": "Twilio 400 error 21614: x",
                                  "welcome_error_code": "21614"})
    assert banner == Banner("red", "Send error", "21614 not a mobile number: The number is a landline or cannot "
                                                 "take texts.")
    [raw] = contact_banners(**{**BASE, "welcome": "send_error", "welcome_error": "the outbox gave up"})
    assert raw.detail == "the outbox gave up"


def test_what_keeps_texts_from_a_contact_comes_first():
    assert tones(opted_out=True, phone_status="valid", welcome="confirmed") == [
        ("red", "Opted out"), ("green", "Valid number"), ("blue", "Confirmed")]
    assert tones(phone_status="invalid", line_type="landline") == [("red", "Invalid number")]
    assert contact_banners(**{**BASE, "phone_status": "invalid", "line_type": "landline"})[0].detail == \
        "A landline: it cannot take texts."
    assert tones(phone=None, welcome="confirmed") == [("grey", "No phone number")]
