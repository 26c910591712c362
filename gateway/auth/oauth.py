"""OAuth 2.0 client credentials for the partner API (RFC 6749 section 4.4).

Each client acts for exactly one dealer. Clients come from the store (``gateway oauth-client
add``) or from the file named by ``api.oauth_clients_file``; their secrets are kept only as
argon2id hashes, checked in turn (gateway/auth/admission.py: a known client before strangers).
Access tokens are opaque random strings kept only as SHA-256 digests.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import msgspec

from gateway.auth.admission import CheckAdmission
from gateway.auth.bearer import bearer_token
from gateway.clock import Clock
from gateway.config import CredentialChecks
from gateway.config.credential_files import load_entries
from gateway.errors import ChecksShed, InvalidToken, TokenRequired
from gateway.auth.hashes import hash_secret, token_digest, verify_secret_async
from gateway.stores import Store
from gateway.stores import OAuthClient

CLIENT_PREFIX = "gwc_"


class ClientEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One entry of ``api.oauth_clients_file``."""

    client_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    secret_hash: Annotated[str, msgspec.Meta(pattern=r"^\$argon2")]
    dealer_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    name: str | None = None


class IssuedToken(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: int
    dealer_id: str



def load_clients_file(path: Path) -> dict[str, OAuthClient]:
    """The clients listed in ``path``; ConfigurationError naming the file and entry when it is invalid."""
    return {e.client_id: OAuthClient(client_id=e.client_id, dealer_id=e.dealer_id, secret_hash=e.secret_hash,
                                      name=e.name)
            for e in load_entries(path, "api.oauth_clients_file", ClientEntry, "client_id")}


async def create_client(store: Store, dealer_id: str, name: str | None, clock: Clock) -> tuple[str, str]:
    """A new stored client for ``dealer_id``: ``(client_id, secret)``; the secret is never stored."""
    client_id, secret = CLIENT_PREFIX + secrets.token_hex(8), secrets.token_urlsafe(32)
    await store.add_oauth_client(OAuthClient(client_id=client_id, dealer_id=dealer_id,
                                             secret_hash=hash_secret(secret), name=name, created_at=clock.now()))
    return client_id, secret


class PartnerAuth:
    """Issues access tokens to clients and tells which dealer a token acts for."""

    def __init__(self, store: Store, clock: Clock, token_seconds: int,
                 file_clients: dict[str, OAuthClient] | None = None, checks: CheckAdmission | None = None) -> None:
        self.store = store
        self.clock = clock
        self.token_seconds = token_seconds
        self.file_clients = file_clients or {}
        self.checks = checks or CheckAdmission(CredentialChecks(), clock)

    async def _client(self, client_id: str) -> OAuthClient | None:
        return self.file_clients.get(client_id) or await self.store.oauth_client(client_id)

    async def issue(self, client_id: str, secret: str, remote: str | None = None) -> IssuedToken | None:
        """A new token for a client whose secret checks out; None otherwise (same time either way, unflooded).

        Raises ChecksShed when a known client's check is shed; an unknown one's shed check is a None.
        """
        client = await self._client(client_id)
        caller = f"client:{client_id}" if client else f"remote:{remote}"
        try:
            async with self.checks.turn("oauth_client", caller, known=client is not None, checks=1):
                valid = await verify_secret_async(client.secret_hash if client else None, secret)
        except ChecksShed as shed:
            if shed.known:
                raise
            valid = False
        if not valid or client is None:
            return None
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        await self.store.add_oauth_token(token_digest(token), client.client_id, client.dealer_id, now,
                                         now + timedelta(seconds=self.token_seconds))
        return IssuedToken(token, self.token_seconds, client.dealer_id)

    async def dealer_for(self, authorization: str | None) -> str:
        """The dealer an ``Authorization: Bearer`` token acts for; TokenRequired / InvalidToken otherwise."""
        token = bearer_token(authorization)
        if token is None:
            raise TokenRequired()
        grant = await self.store.oauth_token(token_digest(token))
        if grant is None or grant.expires_at <= self.clock.now():
            raise InvalidToken()
        if grant.client_stored:
            if grant.client_revoked:
                raise InvalidToken()
            return grant.dealer_id
        client = self.file_clients.get(grant.client_id)  # taken out of the file since: no longer valid
        if client is None:
            raise InvalidToken()
        return client.dealer_id
