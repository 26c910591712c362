"""API keys, and what the partner API keeps: contacts it writes and deletes, welcome texts, OAuth."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from gateway.core import segments
from gateway.clock import parse_isoformat
from gateway.errors import DuplicateKey
from gateway.model import Contact, LogEntry, Notification, OutboundMessage
from gateway.stores.records import (
    OAuthClient, TokenGrant, Welcome, contact_from_row, oauth_client_from_row, welcome_from_row,
)
from gateway.stores.sqlite.engine import SQLiteEngine
from gateway.stores.sqlite.queries import QUERIES, _t


class SQLitePartner(SQLiteEngine):
    """``PartnerStore`` (gateway/stores/base/partner.py) on SQLite."""

    # API keys
    async def add_api_key(self, key_id: str, name: str, key_hash: str, now: datetime) -> None:
        async with self._transaction() as conn:
            await QUERIES.insert_api_key(conn, id=key_id, name=name, key_hash=key_hash, created_at=_t(now))

    async def api_key_hash(self, key_id: str) -> str | None:
        row = await QUERIES.get_api_key(self._read, id=key_id)
        return row["key_hash"] if row else None

    async def revoke_api_key(self, key_id: str, now: datetime) -> bool:
        async with self._transaction() as conn:
            return bool(await QUERIES.revoke_api_key(conn, id=key_id, now=_t(now)))

    async def api_keys(self) -> list[dict[str, Any]]:
        return [dict(r) async for r in QUERIES.list_api_keys(self._read)]

    # Partner API: contacts
    async def create_contact(self, contact: Contact) -> Contact:
        try:
            return await self.add_contact(contact)
        except sqlite3.IntegrityError as exc:
            raise DuplicateKey(f"external_contact_id {contact.external_contact_id!r} is already on this site.") from exc

    async def update_contact(self, contact: Contact, *, reset_welcome: bool = False) -> Contact:
        try:
            async with self._transaction() as conn:
                if reset_welcome:
                    await QUERIES.delete_welcome(conn, contact_id=contact.id)
                await QUERIES.update_contact(
                    conn, id=contact.id, external_contact_id=contact.external_contact_id,
                    first_name=contact.first_name, last_name=contact.last_name, phone=contact.phone,
                    email=contact.email, auto_notify=int(contact.auto_notify),
                    email_notify=int(contact.email_notify), title=contact.title, slot_number=contact.slot_number)
        except sqlite3.IntegrityError as exc:
            raise DuplicateKey(f"external_contact_id {contact.external_contact_id!r} is already on this site.") from exc
        return contact_from_row(await QUERIES.get_contact(self._read, id=contact.id))

    async def delete_contact(self, contact: Contact, now: datetime,
                             log_for: Callable[[int], Sequence[LogEntry]]) -> int:
        async with self._transaction() as conn:
            await QUERIES.delete_contact(conn, id=contact.id)
            await QUERIES.detach_open_recipient(conn, contact_id=contact.id)
            await QUERIES.cancel_queued_for_contact(conn, contact_id=contact.id, now=_t(now))
            await QUERIES.end_contact_sessions(conn, contact_id=contact.id, now=_t(now))
            await QUERIES.expire_contact_response_tokens(conn, contact_id=contact.id, now=_t(now))
            await QUERIES.delete_welcome(conn, contact_id=contact.id)
            await QUERIES.forget_dispatch_recipient(conn, contact_id=contact.id)
            remaining = await QUERIES.count_site_contacts(conn, site_id=contact.site_id)
            await self._insert_log(conn, log_for(remaining))
        return remaining

    # Partner API: welcome
    async def get_welcome(self, contact_id: int) -> Welcome | None:
        row = await QUERIES.get_welcome(self._read, contact_id=contact_id)
        return welcome_from_row(row) if row else None

    async def site_welcomes(self, site_id: str) -> dict[int, Welcome]:
        return {r["contact_id"]: welcome_from_row(r) async for r in QUERIES.site_welcomes(self._read, site_id=site_id)}

    async def set_welcome_token(self, contact_id: int, token_hash: str, token_expires_at: datetime,
                                now: datetime) -> bool:
        async with self._transaction() as conn:
            return bool(await QUERIES.set_welcome_token(conn, contact_id=contact_id, token_hash=token_hash,
                                                        token_expires_at=_t(token_expires_at), now=_t(now)))

    async def start_welcome(self, contact_id: int, token_hash: str | None, token_expires_at: datetime | None,
                            message: OutboundMessage, log: Sequence[LogEntry], now: datetime) -> None:
        async with self._transaction() as conn:
            await QUERIES.start_welcome(conn, contact_id=contact_id, token_hash=token_hash,
                                        token_expires_at=_t(token_expires_at), now=_t(now))
            await QUERIES.insert_outbound(
                conn, created_at=_t(now), kind=message.kind, priority=message.priority, status="queued",
                to_phone=message.to_phone, from_phone=message.from_phone or "", body=message.body,
                segments=segments.count(message.body).segments, site_id=message.site_id,
                contact_id=message.contact_id, verification_id=None, inbound_id=None,
                expires_at=_t(message.expires_at), carrier=None, sent_at=None, channel=message.channel,
                to_address=message.to_address, subject=message.subject)
            await self._insert_log(conn, log)

    async def welcome_by_token(self, token_hash: str, now: datetime) -> Welcome | None:
        row = await QUERIES.welcome_by_token(self._read, token_hash=token_hash, now=_t(now))
        return welcome_from_row(row) if row else None

    async def confirm_welcome(self, contact_id: int, now: datetime, log: Sequence[LogEntry],
                              notifications: Sequence[Notification] = ()) -> bool:
        async with self._transaction() as conn:
            changed = await QUERIES.confirm_welcome(conn, contact_id=contact_id, now=_t(now))
            if changed:
                await self._insert_log(conn, log)
                await self._insert_notifications(conn, notifications)
        return bool(changed)

    async def welcome_send_failed(self, contact_id: int, reason: str, now: datetime) -> bool:
        async with self._transaction() as conn:
            return bool(await QUERIES.welcome_send_failed(conn, contact_id=contact_id, reason=reason, now=_t(now)))

    # Partner API: OAuth
    async def add_oauth_client(self, client: OAuthClient) -> None:
        async with self._transaction() as conn:
            await QUERIES.insert_oauth_client(conn, id=client.client_id, name=client.name,
                                              secret_hash=client.secret_hash, dealer_id=client.dealer_id,
                                              created_at=_t(client.created_at or self.clock.now()))

    async def oauth_client(self, client_id: str) -> OAuthClient | None:
        row = await QUERIES.get_oauth_client(self._read, id=client_id)
        return oauth_client_from_row(row) if row else None

    async def oauth_clients(self) -> list[tuple[OAuthClient, datetime | None]]:
        return [(oauth_client_from_row(r), parse_isoformat(r["revoked_at"]) if r["revoked_at"] else None)
                async for r in QUERIES.list_oauth_clients(self._read)]

    async def revoke_oauth_client(self, client_id: str, now: datetime) -> bool:
        async with self._transaction() as conn:
            revoked = await QUERIES.revoke_oauth_client(conn, id=client_id, now=_t(now))
            await QUERIES.delete_client_tokens(conn, client_id=client_id)
        return bool(revoked)

    async def add_oauth_token(self, token_hash: str, client_id: str, dealer_id: str, issued_at: datetime,
                              expires_at: datetime) -> None:
        async with self._transaction() as conn:
            await QUERIES.delete_expired_tokens(conn, now=_t(issued_at))
            await QUERIES.insert_oauth_token(conn, token_hash=token_hash, client_id=client_id, dealer_id=dealer_id,
                                             issued_at=_t(issued_at), expires_at=_t(expires_at))

    async def oauth_token(self, token_hash: str) -> TokenGrant | None:
        row = await QUERIES.get_oauth_token(self._read, token_hash=token_hash)
        if row is None:
            return None
        return TokenGrant(client_id=row["client_id"], dealer_id=row["dealer_id"],
                          expires_at=parse_isoformat(row["expires_at"]), client_stored=bool(row["stored_client"]),
                          client_revoked=row["client_revoked_at"] is not None)
