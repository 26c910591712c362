"""Bearer API keys for /ext/v1: ``gwk_<id>_<secret>``, the secret stored only as an argon2id hash.

A key that checked out once is remembered by its SHA-256, so argon2's deliberate slowness is
paid once per key, not once per request; every ``RECHECK_SECONDS`` a remembered key is looked
up again (no argon2), so a revoked key stops working within that time. A key not yet
remembered waits its turn for argon2 (gateway/auth/admission.py): a known key id before strangers'.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Annotated

import msgspec

from gateway.auth.admission import CheckAdmission
from gateway.auth.bearer import bearer_token
from gateway.clock import Clock
from gateway.config import CredentialChecks
from gateway.config.credential_files import load_entries
from gateway.errors import ChecksShed, TooManyRequests, Unauthorized
from gateway.auth.hashes import hash_secret, same, token_digest, verify_secret_async
from gateway.stores import Store

PREFIX = "gwk"
RECHECK_SECONDS = 60.0
OPERATOR_KEY_ID = "operator"


def new_key() -> tuple[str, str, str]:
    """``(key_id, secret, full_key)`` for a new key; only the full key is shown to a person."""
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    return key_id, secret, f"{PREFIX}_{key_id}_{secret}"


def split_key(full_key: str) -> tuple[str, str] | None:
    prefix, _, rest = full_key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        return None
    return key_id, secret


async def create_key(store: Store, name: str, clock: Clock) -> str:
    key_id, secret, full = new_key()
    await store.add_api_key(key_id, name, hash_secret(secret), clock.now())
    return full


class KeyEntry(msgspec.Struct, forbid_unknown_fields=True):
    """One entry of ``api.keys_file``: ``{id, name, hash}``, as ``gateway api-key add --for-file`` prints it."""

    id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{12}$")]
    name: str
    hash: Annotated[str, msgspec.Meta(pattern=r"^\$argon2id\$")]


def load_keys_file(path: Path) -> dict[str, str]:
    """Key id to argon2 hash for every key listed in ``path`` (``api.keys_file``)."""
    return {e.id: e.hash for e in load_entries(path, "api.keys_file", KeyEntry, "id")}


class ApiKeyAuth:
    def __init__(self, store: Store, operator_key: str | None = None, file_keys: dict[str, str] | None = None,
                 clock: Clock | None = None, checks: CheckAdmission | None = None) -> None:
        self.store = store
        self.operator_key = operator_key
        self.file_keys = file_keys or {}
        self.clock = clock or Clock()
        self.checks = checks or CheckAdmission(CredentialChecks(), self.clock)
        self._known: dict[bytes, tuple[str, float]] = {}  # sha256 of the key -> (key id, when checked)

    async def authenticate(self, authorization: str | None, remote: str | None = None) -> str:
        """The key id behind an ``Authorization: Bearer ...`` header; raises Unauthorized otherwise, and
        TooManyRequests when a known key id's checks are shed (``remote``: the caller's address)."""
        token = bearer_token(authorization)
        if token is None:
            raise Unauthorized("A bearer API key is required (Authorization: Bearer gwk_...).")
        if self.operator_key and same(token, self.operator_key):
            return OPERATOR_KEY_ID
        digest = hashlib.sha256(token.encode()).digest()
        known = self._known.get(digest)
        if known is not None:
            key_id, checked = known
            if self.clock.monotonic() - checked < RECHECK_SECONDS:
                return key_id
            if key_id in self.file_keys or await self.store.api_key_hash(key_id):
                self._known[digest] = (key_id, self.clock.monotonic())
                return key_id
            del self._known[digest]
            raise Unauthorized("The API key is not valid.")
        parts = split_key(token)
        stored = None
        if parts and parts[0] != OPERATOR_KEY_ID:
            stored = self.file_keys.get(parts[0]) or await self.store.api_key_hash(parts[0])
        # Checked even when the id is unknown, so a guessed id costs the same time as a real one.
        caller = f"key:{parts[0]}" if stored else f"remote:{remote}"
        try:
            async with self.checks.turn("api_key", caller, known=stored is not None, checks=1):
                valid = await verify_secret_async(stored, parts[1] if parts else token)
        except ChecksShed as shed:
            if shed.known:
                raise TooManyRequests("Too many API key checks at once; try again later.",
                                      retry_after=shed.retry_after) from None
            valid = False
        if not valid or stored is None:
            raise Unauthorized("The API key is not valid.")
        if len(self._known) < 10_000:
            self._known[digest] = (parts[0], self.clock.monotonic())
        return parts[0]

    async def fingerprint(self, key_id: str) -> str | None:
        """A digest of key ``key_id`` as it stands now (its hash; the operator key itself), None when there
        is no such key (revoked, or out of ``api.keys_file``). Console sessions are signed over it, so
        revoking or replacing a key ends its sessions."""
        if key_id == OPERATOR_KEY_ID:
            current = self.operator_key
        else:
            current = self.file_keys.get(key_id) or await self.store.api_key_hash(key_id)
        return token_digest(current) if current else None
