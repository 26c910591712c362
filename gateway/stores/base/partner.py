"""What the partner API keeps: API keys, contacts it creates and deletes, welcome texts, OAuth
clients and tokens."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from gateway.model import Contact, LogEntry, Notification, OutboundMessage
from gateway.stores.records import OAuthClient, TokenGrant, Welcome


class PartnerStore(abc.ABC):
    """API keys, partner contacts, welcome texts, OAuth."""

    # API keys
    @abc.abstractmethod
    async def add_api_key(self, key_id: str, name: str, key_hash: str, now: datetime) -> None: ...

    @abc.abstractmethod
    async def api_key_hash(self, key_id: str) -> str | None:
        """The argon2 hash of a key that is not revoked."""

    @abc.abstractmethod
    async def revoke_api_key(self, key_id: str, now: datetime) -> bool:
        """Revoke a stored key; False when there is no such active key."""

    @abc.abstractmethod
    async def api_keys(self) -> list[dict[str, Any]]:
        """Every stored key's id, name, created_at and revoked_at (never its hash)."""

    # Partner API: contacts
    @abc.abstractmethod
    async def create_contact(self, contact: Contact) -> Contact:
        """Like ``add_contact``; raises :class:`gateway.errors.DuplicateKey` for an external id already on the site."""

    @abc.abstractmethod
    async def update_contact(self, contact: Contact, *, reset_welcome: bool = False) -> Contact:
        """Write every field of ``contact`` but its id, site and creation time; DuplicateKey as above.

        ``reset_welcome`` forgets the welcome state (a new number has confirmed nothing)."""

    @abc.abstractmethod
    async def delete_contact(self, contact: Contact, now: datetime,
                             log_for: Callable[[int], Sequence[LogEntry]]) -> int:
        """Delete ``contact``, take it out of open verifications, the outbox and SMS sessions, and log
        ``log_for(remaining)`` in the same transaction; the site's remaining contact count."""

    # Partner API: welcome
    @abc.abstractmethod
    async def get_welcome(self, contact_id: int) -> Welcome | None: ...

    @abc.abstractmethod
    async def site_welcomes(self, site_id: str) -> dict[int, Welcome]: ...

    @abc.abstractmethod
    async def set_welcome_token(self, contact_id: int, token_hash: str, token_expires_at: datetime,
                                now: datetime) -> bool:
        """Make ``token_hash`` the contact's welcome link (the one being texted now); False once confirmed."""

    @abc.abstractmethod
    async def start_welcome(self, contact_id: int, token_hash: str | None, token_expires_at: datetime | None,
                            message: OutboundMessage, log: Sequence[LogEntry], now: datetime) -> None:
        """Set the welcome pending with a new token, queue its text and log, in one transaction."""

    @abc.abstractmethod
    async def welcome_by_token(self, token_hash: str, now: datetime) -> Welcome | None:
        """The welcome whose unexpired token hashes to ``token_hash``."""

    @abc.abstractmethod
    async def confirm_welcome(self, contact_id: int, now: datetime, log: Sequence[LogEntry],
                              notifications: Sequence[Notification] = ()) -> bool:
        """Mark confirmed, log and notify; False (nothing written) when it already was."""

    @abc.abstractmethod
    async def welcome_send_failed(self, contact_id: int, reason: str, now: datetime) -> bool:
        """A pending welcome's text could not be sent: state send_error with ``reason``."""

    # Partner API: OAuth
    @abc.abstractmethod
    async def add_oauth_client(self, client: OAuthClient) -> None: ...

    @abc.abstractmethod
    async def oauth_client(self, client_id: str) -> OAuthClient | None:
        """The client, unless unknown or revoked."""

    @abc.abstractmethod
    async def oauth_clients(self) -> list[tuple[OAuthClient, datetime | None]]:
        """Every stored client with its revocation time."""

    @abc.abstractmethod
    async def revoke_oauth_client(self, client_id: str, now: datetime) -> bool:
        """Revoke the client and drop its tokens; False when there was no such active client."""

    @abc.abstractmethod
    async def add_oauth_token(self, token_hash: str, client_id: str, dealer_id: str, issued_at: datetime,
                              expires_at: datetime) -> None:
        """Store a new token (and forget the expired ones)."""

    @abc.abstractmethod
    async def oauth_token(self, token_hash: str) -> TokenGrant | None: ...
