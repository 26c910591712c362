"""Argon2id hashes for PINs and secrets, checked off the event loop.

Argon2 is deliberately slow (tens of milliseconds); run on the loop it would stall every
other text. Checks go to a one-thread pool (argon2-cffi releases the GIL while hashing), and
callers take turns for it through gateway/auth/admission.py, which refuses what would wait too long.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane): the library's default takes 64 MiB
# a check, and with two checks in flight the daemon's memory would more than double.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# One thread: on two cores a second argon2 thread left the event loop one core short (non-PIN p99 at
# 200 texts/s went 2.0 -> 11.1 ms under 20 PIN texts/s with two threads, 4.9 ms with one; bench/interface.py)
# and memory one more 19 MiB. PIN texts are rare; a flood is shed before it reaches this queue.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")
# Checked against when there is no hash, so an unknown account costs the same time as a wrong secret.
# Made with the same parameters (a hash's own parameters decide the cost of checking it).
_DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$bm90LWEtcmVhbC1zYWx0IQ$FskkG/OwqBKrQe94MtLurOpwcRa/0re2ztdrz1Q/WkE"


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


def token_digest(token: str) -> str:
    """The SHA-256 (hex) under which a random bearer token or link token is stored.

    A fast hash suits these where argon2 suits secrets people choose: the tokens are 256
    random bits, so a leaked digest gives nothing to guess, and each request looks one up.
    """
    return hashlib.sha256(token.encode()).hexdigest()
