"""argon2 hashing of PINs and secrets: a missing hash costs what a real check costs."""

from __future__ import annotations

import pytest


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
