"""Phone numbers as people write them, stored and compared as E.164."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.phone import parse_e164, to_e164
from gateway.errors import InvalidPhoneNumber
from tests.fuzz.budget import examples


@pytest.mark.parametrize("raw, region, e164", [
    ("(555) 012-3456", "US", "+15550123456"),
    ("+1 555 012 3456", "GB", "+15550123456"),
    ("020 7946 0958", "GB", "+442079460958"),
])
def test_e164(raw, region, e164):
    assert to_e164(raw, region) == e164


@pytest.mark.parametrize("raw", ["", "12", "555-0123", "hello", "+999 123"])
def test_invalid_numbers_are_refused(raw):
    with pytest.raises(InvalidPhoneNumber):
        to_e164(raw)


@given(st.from_regex(r"\+1[2-9][0-9]{9}", fullmatch=True), st.sampled_from(["US", "GB", "DE", "CA"]))
@examples(300)
def test_north_american_e164_shortcut_agrees_with_phonenumbers(number, region):
    assert to_e164(number, region) == parse_e164(number, region) == number


@pytest.mark.parametrize("raw", ["+10123456789", "+11234567890", "+1555012345", "+155501234567", " +15550123456"])
def test_near_misses_of_the_shortcut_go_through_phonenumbers(raw):
    try:
        expected = parse_e164(raw)
    except InvalidPhoneNumber:
        with pytest.raises(InvalidPhoneNumber):
            to_e164(raw)
    else:
        assert to_e164(raw) == expected
