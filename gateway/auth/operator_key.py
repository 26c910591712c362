"""The local operator's key (``gateway event``, the console's first sign-in), in ``operator.key``.

One daemon per SQLite file: ``gwk_operator_<secret>`` lives as long as the daemon, in ``operator.key``
beside the file, and never enters the store (like bitcoind's RPC cookie).

Several daemons share a PostgreSQL database, and a load balancer may hand ``gateway event`` to any of
them: there each daemon's folder (``./var``) holds a key ``gwk_operator-<id>_<secret>`` stored like any
API key (argon2 hash, listed by ``gateway api-key list``), so every daemon accepts every folder's key.
A daemon whose ``operator.key`` still holds a live stored key keeps it: two daemons started in one
folder share one key (the file is locked while one decides) and never overwrite each other's. The key
outlives the daemon, since another daemon of the folder may be using it; ``gateway api-key revoke
operator-<id>`` retires it, and the next daemon to start in that folder makes a new one.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

from gateway.auth.apikeys import OPERATOR_KEY_ID, PREFIX, split_key
from gateway.auth.hashes import hash_secret, verify_secret_async
from gateway.clock import Clock
from gateway.stores import Store

log = logging.getLogger(__name__)


def write_operator_key(path: Path, key: str | None = None) -> str:
    """Write ``key`` (a fresh ``gwk_operator_...`` when None) to ``path``, readable by the daemon's user only."""
    full = key or f"{PREFIX}_{OPERATOR_KEY_ID}_{secrets.token_urlsafe(24)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(full + "\n")
    return full


@contextlib.contextmanager
def _folder_lock(path: Path) -> Iterator[None]:
    """Held while one daemon reads or makes the folder's key (a second one started at once waits)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


async def _still_stored(store: Store, path: Path) -> str | None:
    try:
        known = path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    parts = split_key(known)
    if not parts or not parts[0].startswith(f"{OPERATOR_KEY_ID}-"):
        return None
    stored = await store.api_key_hash(parts[0])
    return known if stored and await verify_secret_async(stored, parts[1]) else None


async def stored_operator_key(store: Store, path: Path, clock: Clock) -> str:
    """The key of this daemon's folder on a shared database: the one ``path`` holds while it is stored and
    not revoked, else a new one, stored (hashed) and written to ``path``."""
    with _folder_lock(path):  # blocking, briefly, and only at start
        known = await _still_stored(store, path)
        if known is not None:
            return known
        key_id, secret = f"{OPERATOR_KEY_ID}-{secrets.token_hex(6)}", secrets.token_urlsafe(24)
        await store.add_api_key(key_id, f"operator key of {socket.gethostname()}:{path.resolve()}",
                                hash_secret(secret), clock.now())
        log.info("operator key %s made for %s", key_id, path)
        return write_operator_key(path, f"{PREFIX}_{key_id}_{secret}")
