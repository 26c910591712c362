"""Small pure pieces: phone numbers, PIN masking, segment counting."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidPhoneNumber
from gateway.core.phone import to_e164
from gateway.core.pin import masked, split_pin
from gateway.core.segments import count


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


@pytest.mark.parametrize("text, encoding, segments", [
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1),  # extension characters cost two septets
    ("€" * 81, "GSM-7", 2),
    ("a" * 152 + "€" + "a" * 8, "GSM-7", 2),  # the escape pair is not split: 152 + (2 + 8)
    ("é" * 160, "GSM-7", 1),
    ("ç" * 70, "UCS-2", 1),  # ç is not GSM-7 (only Ç is)
    ("ç" * 71, "UCS-2", 2),
    ("😀" * 35, "UCS-2", 1),
    ("😀" * 36, "UCS-2", 2),
    ("a" * 66 + "😀", "UCS-2", 1),
    ("a" * 68 + "😀", "UCS-2", 1),
    ("a" * 69 + "😀", "UCS-2", 2),
    ("a" * 66 + "😀" + "a" * 66 + "😀", "UCS-2", 3),  # 68 + 68 units: neither pair may straddle a part
])
def test_segments(text, encoding, segments):
    result = count(text)
    assert (result.encoding, result.segments) == (encoding, segments)


def test_dummy_hash_costs_what_a_real_check_costs():
    from argon2 import PasswordHasher
    from argon2.exceptions import VerifyMismatchError

    from gateway.auth import hashes

    real = hashes.hash_secret("48213579")
    assert hashes._HASHER.check_needs_rehash(hashes._DUMMY_HASH) is False  # same parameters as real hashes
    assert real.split("$")[3] == hashes._DUMMY_HASH.split("$")[3]
    with pytest.raises(VerifyMismatchError):  # a full check that fails, not a malformed hash rejected at once
        PasswordHasher().verify(hashes._DUMMY_HASH, "48213579")
    assert hashes.verify_secret(None, "not-a-real-secret") is False
    assert hashes.verify_secret(real, "48213579") and not hashes.verify_secret(real, "48213570")


@pytest.mark.parametrize("body, stored", [
    ("STATUS 4821.", "STATUS ****."),  # punctuation after the PIN
    ("Yes 4821!", "Yes ****!"),
    ("4821 YES", "**** YES"),  # the PIN typed first
    ("call me on 555-123-4567 at 10:30", "call me on 555-123-4567 at 10:30"),  # numbers that cannot be a PIN
    ("+15550123456", "+15550123456"),
])
def test_every_pin_shaped_word_is_masked(body, stored):
    assert masked(body) == stored
