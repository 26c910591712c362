"""Phone numbers: everything stored and compared is E.164."""

from __future__ import annotations

import functools
import re

import phonenumbers

from gateway.errors import InvalidPhoneNumber

# A North American number already in E.164: phonenumbers would parse it into the same ten digits (no national
# prefix, no leading zero), find ten a possible length and format it back unchanged, at ~30 us a number
# (tests/test_phone.py checks the two agree). Texts from unknown numbers miss the cache below.
_NANP_E164 = re.compile(r"\+1[2-9]\d{9}")


def to_e164(raw: str, default_region: str = "US") -> str:
    """Parse a number as people write it and return its E.164 form.

    ``(555) 012-3456`` with region US becomes ``+15550123456``. Raises
    :class:`InvalidPhoneNumber` naming the input when it is not a possible number.
    """
    if _NANP_E164.fullmatch(raw or ""):
        return raw
    return parse_e164(raw, default_region)


@functools.lru_cache(maxsize=8192)  # inbound texts come from the same few thousand numbers over and over
def parse_e164(raw: str, default_region: str = "US") -> str:
    """:func:`to_e164` through phonenumbers, whatever the input."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("A phone number is required.", phone=raw)
    try:
        number = phonenumbers.parse(text, default_region.upper())
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number: {exc._msg}", phone=raw) from None
    # is_possible_number rather than is_valid_number: the 555-01xx fiction range and
    # newly allocated ranges fail the stricter check but are real, textable numbers.
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise InvalidPhoneNumber(f"{raw!r} is not a possible phone number for region {default_region}.", phone=raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """The international form people read, e.g. ``+1 555-012-3456``."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164
