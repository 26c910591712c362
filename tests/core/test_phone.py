"""Phone numbers as people write them, stored and compared as E.164."""

from __future__ import annotations

import pytest

from gateway.core.phone import to_e164
from gateway.errors import InvalidPhoneNumber


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
