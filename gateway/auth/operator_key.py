"""The local operator's key (``gateway event``, the console's first sign-in): ``gwk_operator_<secret>``.

One daemon per SQLite file: the key lives as long as the daemon, in ``operator.key`` beside the file,
and never enters the store (like bitcoind's RPC cookie). Several daemons share a PostgreSQL database,
and a load balancer may hand ``gateway event`` to any of them: there the key is one for the whole
database, stored as an argon2 hash under the id ``operator`` (every daemon accepts it), made by the
first daemon that finds none. A daemon whose ``operator.key`` holds that key keeps using it; one that
has no such file (another machine, another folder) accepts the key without knowing it and writes no
file, so two daemons in one folder never overwrite each other's key. It lasts until
``gateway api-key revoke operator``; the next daemon to start then makes a new one.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from gateway.auth.apikeys import OPERATOR_KEY_ID, PREFIX, split_key
from gateway.auth.hashes import hash_secret, verify_secret_async
from gateway.clock import Clock
from gateway.stores import Store

log = logging.getLogger(__name__)

def new_operator_key() -> str:
    return f"{PREFIX}_{OPERATOR_KEY_ID}_{secrets.token_urlsafe(24)}"


def write_operator_key(path: Path, key: str | None = None) -> str:
    """Write ``key`` (a fresh one when None) to ``path``, readable by the daemon's user only; the key."""
    full = key or new_operator_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(full + "\n")
    return full


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except (OSError, UnicodeDecodeError):
        return None


async def shared_operator_key(store: Store, path: Path, clock: Clock) -> str | None:
    """The database's operator key as this daemon knows it (from ``path``, or made now and written there);
    None when another daemon made it and ``path`` does not hold it (the key is still accepted, by its hash)."""
    known = _read(path)
    stored = await store.api_key_hash(OPERATOR_KEY_ID)
    if stored is not None:
        parts = split_key(known) if known else None
        if parts and parts[0] == OPERATOR_KEY_ID and await verify_secret_async(stored, parts[1]):
            return known
        log.info("operator key: made by another daemon of this database (stored hashed); %s is not it. Copy "
                 "that daemon's operator.key here, or use a key of `gateway api-key add`", path)
        return None
    key = new_operator_key()
    if not await store.claim_api_key(OPERATOR_KEY_ID, "operator (local)", hash_secret(split_key(key)[1]),
                                     clock.now()):
        log.info("operator key: another daemon of this database made it first; %s left as it is", path)
        return None
    return write_operator_key(path, key)
