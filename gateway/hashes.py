"""Argon2id hashes for PINs and secrets, checked off the event loop.

Argon2 is deliberately slow (tens of milliseconds); run on the loop it would stall every
other text. Checks go to a small thread pool (argon2-cffi releases the GIL while hashing).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory defaults
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")
# Checked against when there is no hash, so an unknown account costs the same time as a wrong secret.
_DUMMY_HASH = _HASHER.hash("not-a-real-secret")


def hash_secret(secret: str) -> str:
    return _HASHER.hash(secret)


def verify_secret(hash_: str | None, secret: str) -> bool:
    """True when ``secret`` matches ``hash_``; takes the same time when ``hash_`` is None."""
    try:
        return _HASHER.verify(hash_ or _DUMMY_HASH, secret) and hash_ is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_secret_async(hash_: str | None, secret: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_POOL, verify_secret, hash_, secret)


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode(), b.encode())
