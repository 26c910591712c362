"""A PIN as a text's last word, split off and masked (the whole masking rule: tests/test_pin_masking.py)."""

from __future__ import annotations

import pytest

from gateway.core.pin import masked, split_pin


@pytest.mark.parametrize("body, words, pin, stored", [
    ("YES 4821", "YES", "4821", "YES ****"),
    ("4821", "", "4821", "****"),
    ("STATUS 12345678", "STATUS", "12345678", "STATUS ****"),
    ("yes", "yes", None, "yes"),
    ("zone 12", "zone 12", None, "zone 12"),
    ("123456789", "123456789", None, "123456789"),  # longer than any PIN
])
def test_pin_split_and_mask(body, words, pin, stored):
    assert split_pin(body) == (words, pin)
    assert masked(body) == stored


@pytest.mark.parametrize("body, stored", [
    ("STATUS 4821.", "STATUS ****."),  # punctuation after the PIN
    ("Yes 4821!", "Yes ****!"),
    ("4821 YES", "**** YES"),  # the PIN typed first
    ("call me on 555-123-4567 at 10:30", "call me on 555-123-4567 at 10:30"),  # numbers that cannot be a PIN
    ("+15550123456", "+15550123456"),
])
def test_every_pin_shaped_word_is_masked(body, stored):
    assert masked(body) == stored
