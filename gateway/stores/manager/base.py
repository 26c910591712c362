"""What every area of the store builds on: its connector, its clock, the daemon's claimer id,
the store's life (open, migrate, ping), and the rows that several areas write."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from gateway.clock import Clock
from gateway.core import segments
from gateway.model import InterfaceState, LogEntry, Notification, OutboundMessage
from gateway.stores.connector import Body, Connector, Op, Script
from gateway.stores.migrations import MIGRATIONS


def daemon_id() -> str:
    """This process's name on the leases it takes: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class StoreBase:
    """The connector and what every area shares."""

    def __init__(self, connector: Connector, *, clock: Clock | None = None) -> None:
        self.db = connector
        self.clock = clock or Clock()
        self.claimer = daemon_id()

    @property
    def engine(self) -> str:
        return self.db.engine

    @property
    def shared(self) -> bool:
        """True when several daemons may serve the database at once (PostgreSQL)."""
        return not self.db.exclusive

    @property
    def description(self) -> str:
        """The database URL as it may be printed (password masked)."""
        return self.db.description

    async def open(self) -> None:
        """Connect and bring the schema up to date."""
        await self.db.open()
        try:
            await self.migrate()
        except BaseException:
            await self.db.close()
            raise

    async def close(self) -> None:
        await self.db.close()

    def daemon_lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold for the life of ``gateway serve``: one daemon per SQLite file, any number on PostgreSQL."""
        return self.db.daemon_lock()

    def turns(self, keys: Sequence[str]) -> contextlib.AbstractAsyncContextManager[None]:
        """Held while this daemon reads, decides on and commits a text from ``keys`` (its number): another
        daemon on the same database waits (PostgreSQL: an advisory lock per key, in a transaction that the store
        calls inside join and that commits when the turn ends; SQLite: nothing to wait for)."""
        return self.db.turns(keys)

    async def migrate(self) -> list[str]:
        """Apply pending schema migrations, all in one transaction; the names applied.

        Safe when several processes migrate at once: each takes the engine's migration lock
        first (PostgreSQL: an advisory lock) and sees what the others applied."""
        return await self.db.transaction(_migrate, self.clock.now())

    async def probe(self) -> str:
        """What the database server says it is, connecting for this question alone (nothing migrated)."""
        await self.db.open()
        try:
            return await self.db.server_version()
        finally:
            await self.db.close()

    async def listen(self, channel: str, heard: Callable[[], None]) -> Callable[[], Awaitable[None]]:
        """Call ``heard()`` whenever another daemon commits a write that announces itself on ``channel``
        (``OUTBOX_CHANNEL``, ``WEBHOOKS_CHANNEL``), and once each time a lost listening connection comes back
        (what was announced meanwhile was missed). A signal only: loops still poll. The coroutine function
        that stops listening."""
        return await self.db.listen(channel, lambda _payload: heard())

    async def ping(self) -> bool:
        """True when the store answers a trivial query and takes a tiny write (a full disk fails it); raises
        StoreUnavailable when it cannot write."""
        return await self.db.ping()


def _migrate(now: datetime) -> Body[list[str]]:
    yield Op("lock_migrations")
    yield Op("create_schema_migrations")
    done = {row["name"] for row in (yield Op("applied_migrations"))}
    applied = []
    for name in MIGRATIONS:
        if name not in done:
            yield Script(name)
            yield Op("record_migration", {"name": name, "applied_at": now})
            applied.append(name)
    return applied


# Rows several areas write
def log_rows(entries: Sequence[LogEntry]) -> list[dict[str, Any]]:
    return [{"at": e.at, "code": e.code, "site_id": e.site_id, "contact_id": e.contact_id, "phone": e.phone,
             "verification_id": e.verification_id, "event_id": e.event_id, "comment": e.comment,
             "details": e.details or None, "trace_id": e.trace_id}
            for e in entries]


def notification_rows(notifications: Sequence[Notification]) -> list[dict[str, Any]]:
    return [{"event_type": n.event_type, "data": n.data, "created_at": n.at} for n in notifications]


def outbound_row(message: OutboundMessage, now: datetime) -> dict[str, Any]:
    """A message for the outbox, queued now; its segments counted as the carrier will."""
    return {"created_at": now, "kind": message.kind, "priority": message.priority, "status": "queued",
            "to_phone": message.to_phone, "from_phone": message.from_phone or "", "body": message.body,
            "segments": segments.count(message.body).segments, "site_id": message.site_id,
            "contact_id": message.contact_id, "verification_id": message.verification_id, "inbound_id": None,
            "expires_at": message.expires_at, "carrier": None, "sent_at": None, "channel": message.channel,
            "to_address": message.to_address, "subject": message.subject}


# What a committed write tells every daemon's loops (PostgreSQL: NOTIFY, delivered at commit, never on a
# rollback; SQLite has one daemon, which wakes its own loops in-process).
OUTBOX_CHANNEL = "gateway_outbox"
WEBHOOKS_CHANNEL = "gateway_webhooks"


def write_outbound(rows: Sequence[dict[str, Any]]) -> Body[None]:
    """Queue outbox rows and, when one waits for a sender, wake every daemon's sender at commit."""
    if rows:
        yield Op("insert_outbound", list(rows))
        if any(row["status"] == "queued" for row in rows):
            yield Op("notify", {"channel": OUTBOX_CHANNEL, "payload": ""})


def write_log(entries: Sequence[LogEntry]) -> Body[None]:
    if entries:
        yield Op("insert_log", log_rows(entries))


def write_notifications(notifications: Sequence[Notification]) -> Body[None]:
    if notifications:
        yield Op("insert_webhook_events", notification_rows(notifications))
        yield Op("notify", {"channel": WEBHOOKS_CHANNEL, "payload": ""})


def interface_state_row(state: InterfaceState, now: datetime) -> dict[str, Any]:
    return dict(
        phone=state.phone, session_contact_id=state.session_contact_id, session_expires_at=state.session_expires_at,
        session_duress=state.session_duress, failures=state.failures, failures_since=state.failures_since,
        locked_until=state.locked_until, pending_command=state.pending_command, pending_until=state.pending_until,
        replies=state.replies, replies_since=state.replies_since, muted_until=state.muted_until, updated_at=now,
    )
