"""What the partner API keeps: API keys, contacts it writes and deletes, welcome texts, OAuth clients
and tokens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from gateway.errors import DuplicateKey
from gateway.model import Contact, LogEntry, Notification, OutboundMessage
from gateway.stores.connector import Body, Conflict, Op
from gateway.stores.manager.base import StoreBase, outbound_row, write_log, write_notifications, write_outbound
from gateway.stores.manager.sites import contact_params
from gateway.stores.records import (
    OAuthClient, TokenGrant, Welcome, contact_from_row, oauth_client_from_row, welcome_from_row,
)


class PartnerStore(StoreBase):
    # API keys
    async def add_api_key(self, key_id: str, name: str, key_hash: str, now: datetime) -> None:
        await self.db.execute("insert_api_key", id=key_id, name=name, key_hash=key_hash, created_at=now)

    async def api_key_hash(self, key_id: str) -> str | None:
        """The argon2 hash of a key that is not revoked."""
        row = await self.db.fetch("get_api_key", id=key_id)
        return row["key_hash"] if row else None

    async def revoke_api_key(self, key_id: str, now: datetime) -> bool:
        """Revoke a stored key; False when there is no such active key."""
        return bool(await self.db.execute("revoke_api_key", id=key_id, now=now))

    async def api_keys(self) -> list[dict[str, Any]]:
        """Every stored key's id, name, created_at and revoked_at (never its hash)."""
        return await self.db.fetch("list_api_keys")

    # Contacts
    async def create_contact(self, contact: Contact) -> Contact:
        """Like ``add_contact``; raises :class:`gateway.errors.DuplicateKey` for an external id already on the site."""
        try:
            return await self.add_contact(contact)
        except Conflict as exc:
            raise _duplicate(contact) from exc

    async def update_contact(self, contact: Contact, *, reset_welcome: bool = False) -> Contact:
        """Write every field of ``contact`` but its id, site and creation time; DuplicateKey as above.

        ``reset_welcome`` forgets the welcome state (a new number has confirmed nothing)."""
        try:
            return contact_from_row(await self.db.transaction(_update_contact, contact, reset_welcome))
        except Conflict as exc:
            raise _duplicate(contact) from exc

    async def delete_contact(self, contact: Contact, now: datetime,
                             log_for: Callable[[int], Sequence[LogEntry]]) -> int:
        """Delete ``contact``, take it out of open verifications, the outbox and SMS sessions, and log
        ``log_for(remaining)`` in the same transaction; the site's remaining contact count."""
        return await self.db.transaction(_delete_contact, contact, now, log_for)

    # Welcome texts
    async def get_welcome(self, contact_id: int) -> Welcome | None:
        row = await self.db.fetch("get_welcome", contact_id=contact_id)
        return welcome_from_row(row) if row else None

    async def site_welcomes(self, site_id: str) -> dict[int, Welcome]:
        return {r["contact_id"]: welcome_from_row(r) for r in await self.db.fetch("site_welcomes", site_id=site_id)}

    async def set_welcome_token(self, contact_id: int, token_hash: str, token_expires_at: datetime,
                                now: datetime) -> bool:
        """Make ``token_hash`` the contact's welcome link (the one being texted now); False once confirmed."""
        return bool(await self.db.execute("set_welcome_token", contact_id=contact_id, token_hash=token_hash,
                                          token_expires_at=token_expires_at, now=now))

    async def start_welcome(self, contact_id: int, token_hash: str | None, token_expires_at: datetime | None,
                            message: OutboundMessage, log: Sequence[LogEntry], now: datetime) -> None:
        """Set the welcome pending with a new token, queue its text and log, in one transaction."""
        await self.db.transaction(_start_welcome, contact_id, token_hash, token_expires_at, message, log, now)

    async def welcome_by_token(self, token_hash: str, now: datetime) -> Welcome | None:
        """The welcome whose unexpired token hashes to ``token_hash``."""
        row = await self.db.fetch("welcome_by_token", token_hash=token_hash, now=now)
        return welcome_from_row(row) if row else None

    async def confirm_welcome(self, contact_id: int, now: datetime, log: Sequence[LogEntry],
                              notifications: Sequence[Notification] = ()) -> bool:
        """Mark confirmed, log and notify; False (nothing written) when it already was."""
        return await self.db.transaction(_confirm_welcome, contact_id, now, log, notifications)

    async def welcome_send_failed(self, contact_id: int, reason: str, now: datetime) -> bool:
        """A pending welcome's text could not be sent: state send_error with ``reason``."""
        return bool(await self.db.execute("welcome_send_failed", contact_id=contact_id, reason=reason, now=now))

    # OAuth
    async def add_oauth_client(self, client: OAuthClient) -> None:
        await self.db.execute("insert_oauth_client", id=client.client_id, name=client.name,
                              secret_hash=client.secret_hash, dealer_id=client.dealer_id,
                              created_at=client.created_at or self.clock.now())

    async def oauth_client(self, client_id: str) -> OAuthClient | None:
        """The client, unless unknown or revoked."""
        row = await self.db.fetch("get_oauth_client", id=client_id)
        return oauth_client_from_row(row) if row else None

    async def oauth_clients(self) -> list[tuple[OAuthClient, datetime | None]]:
        """Every stored client with its revocation time."""
        return [(oauth_client_from_row(r), r["revoked_at"]) for r in await self.db.fetch("list_oauth_clients")]

    async def revoke_oauth_client(self, client_id: str, now: datetime) -> bool:
        """Revoke the client and drop its tokens; False when there was no such active client."""
        return await self.db.transaction(_revoke_client, client_id, now)

    async def add_oauth_token(self, token_hash: str, client_id: str, dealer_id: str, issued_at: datetime,
                              expires_at: datetime) -> None:
        """Store a new token (and forget the expired ones)."""
        await self.db.transaction(_add_token, token_hash, client_id, dealer_id, issued_at, expires_at)

    async def oauth_token(self, token_hash: str) -> TokenGrant | None:
        row = await self.db.fetch("get_oauth_token", token_hash=token_hash)
        if row is None:
            return None
        return TokenGrant(client_id=row["client_id"], dealer_id=row["dealer_id"], expires_at=row["expires_at"],
                          client_stored=bool(row["stored_client"]), client_revoked=row["client_revoked_at"] is not None)


def _duplicate(contact: Contact) -> DuplicateKey:
    return DuplicateKey(f"external_contact_id {contact.external_contact_id!r} is already on this site.")


def _update_contact(contact: Contact, reset_welcome: bool) -> Body[dict[str, Any]]:
    if reset_welcome:
        yield Op("delete_welcome", {"contact_id": contact.id})
    yield Op("update_contact", {**contact_params(contact), "id": contact.id})
    return (yield Op("get_contact", {"id": contact.id}))


def _delete_contact(contact: Contact, now: datetime, log_for: Callable[[int], Sequence[LogEntry]]) -> Body[int]:
    yield Op("delete_contact", {"id": contact.id})
    yield Op("detach_open_recipient", {"contact_id": contact.id})
    yield Op("cancel_queued_for_contact", {"contact_id": contact.id, "now": now})
    yield Op("end_contact_sessions", {"contact_id": contact.id, "now": now})
    yield Op("expire_contact_response_tokens", {"contact_id": contact.id, "now": now})
    yield Op("delete_welcome", {"contact_id": contact.id})
    yield Op("forget_dispatch_recipient", {"contact_id": contact.id})
    remaining = yield Op("count_site_contacts", {"site_id": contact.site_id})
    yield from write_log(log_for(remaining))
    return remaining


def _start_welcome(contact_id: int, token_hash: str | None, token_expires_at: datetime | None,
                   message: OutboundMessage, log: Sequence[LogEntry], now: datetime) -> Body[None]:
    yield Op("start_welcome", {"contact_id": contact_id, "token_hash": token_hash,
                               "token_expires_at": token_expires_at, "now": now})
    yield from write_outbound([outbound_row(message, now)])
    yield from write_log(log)


def _confirm_welcome(contact_id: int, now: datetime, log: Sequence[LogEntry],
                     notifications: Sequence[Notification]) -> Body[bool]:
    if not (yield Op("confirm_welcome", {"contact_id": contact_id, "now": now})):
        return False
    yield from write_log(log)
    yield from write_notifications(notifications)
    return True


def _revoke_client(client_id: str, now: datetime) -> Body[bool]:
    revoked = yield Op("revoke_oauth_client", {"id": client_id, "now": now})
    yield Op("delete_client_tokens", {"client_id": client_id})
    return bool(revoked)


def _add_token(token_hash: str, client_id: str, dealer_id: str, issued_at: datetime,
               expires_at: datetime) -> Body[None]:
    yield Op("delete_expired_tokens", {"now": issued_at})
    yield Op("insert_oauth_token", {"token_hash": token_hash, "client_id": client_id, "dealer_id": dealer_id,
                                    "issued_at": issued_at, "expires_at": expires_at})
