"""The SQLite engine: WAL mode through aiosqlite, every query in sql/sqlite/queries.sql.

Writes go through one connection: the hot ones (``commit``, the sender's marks) as group
commits (gateway/stores/groupcommit.py), the rest as one-off transactions under the same
lock. Reads use a second connection, which in WAL mode never waits for a writer and only
sees committed rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosql
import aiosqlite

from gateway import segments
from gateway.clock import Clock, isoformat, parse_isoformat
from gateway.errors import ConfigurationError, DuplicateKey
from gateway.model import (
    AlarmEvent, Contact, Decision, DeliveryReport, InterfaceState, LogEntry, Notification, OutboundMessage, PhoneLookup,
    Site, SiteGroup, Verification,
)
from gateway.stores.base import (
    CommitResult, DeliveryResult, InboundView, LogRow, OAuthClient, OutboxItem, Store, TokenGrant, WebhookDelivery, Welcome,
)
from gateway.stores.groupcommit import GroupCommit
from gateway.stores.records import (
    alarm_from_row, contact_from_row, dispatch_from_row, group_from_row, log_row_from_row, interface_state_from_row, outbox_item_from_row, site_from_row,
    verification_from_row,
)
from gateway.stores.records import oauth_client_from_row, welcome_from_row

SQL_DIR = Path(__file__).parent / "sql" / "sqlite"
QUERIES = aiosql.from_path(SQL_DIR / "queries.sql", "aiosqlite", mandatory_parameters=False)
# The same queries for plain sqlite3 connections: what runs inside a group-commit batch.
SYNC_QUERIES = aiosql.from_path(SQL_DIR / "queries.sql", "sqlite3", mandatory_parameters=False)


def _t(moment: datetime | None) -> str | None:
    return isoformat(moment) if moment is not None else None


def _log_params(entries: Sequence[LogEntry]) -> list[dict[str, Any]]:
    return [{"at": _t(e.at), "code": e.code, "site_id": e.site_id, "contact_id": e.contact_id, "phone": e.phone,
             "verification_id": e.verification_id, "event_id": e.event_id, "comment": e.comment,
             "details": json.dumps(e.details, separators=(",", ":")) if e.details else None, "trace_id": e.trace_id}
            for e in entries]


def _notification_params(notifications: Sequence[Notification]) -> list[dict[str, Any]]:
    return [{"event_type": n.event_type, "data": json.dumps(n.data, separators=(",", ":")), "created_at": _t(n.at)}
            for n in notifications]


def _interface_state_params(state: InterfaceState, now: str) -> dict[str, Any]:
    return dict(
        phone=state.phone, session_contact_id=state.session_contact_id,
        session_expires_at=_t(state.session_expires_at), session_duress=int(state.session_duress),
        failures=state.failures, failures_since=_t(state.failures_since), locked_until=_t(state.locked_until),
        pending_command=state.pending_command, pending_until=_t(state.pending_until), replies=state.replies,
        replies_since=_t(state.replies_since), muted_until=_t(state.muted_until), updated_at=now,
    )


def _recipient_failed(conn: sqlite3.Connection, item: OutboxItem, error: str, now: datetime) -> None:
    """Mark the recipient of ``item`` failed; when nobody of its verification is left, the verification
    fails too and subscribers hear ``verification.failed``."""
    q = SYNC_QUERIES
    q.recipient_sent(conn, verification_id=item.verification_id, contact_id=item.contact_id, status="failed",
                     channel=item.channel, error=error)
    if q.verification_all_failed(conn, verification_id=item.verification_id)[0]:
        for row in q.verification_failed(conn, verification_id=item.verification_id):
            q.insert_webhook_events(conn, _notification_params([Notification(
                event_type="verification.failed", at=now, data={
                    "verification_id": row["id"], "event_id": row["event_id"], "site_id": row["site_id"],
                    "reason": error, "failed_at": isoformat(now)})]))


def sqlite_path(url: str) -> Path:
    """``sqlite:///var/x.sqlite3`` is relative to the working directory, ``sqlite:////abs`` absolute."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix:
        raise ConfigurationError(f"database.url: {url!r} is not sqlite:///PATH")
    return Path(url[len(prefix):])


class SQLiteStore(Store):
    engine = "sqlite"

    def __init__(self, url: str, *, clock: Clock | None = None, synchronous: str = "FULL") -> None:
        self.path = sqlite_path(url)
        self.clock = clock or Clock()
        self.synchronous = synchronous
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._group: GroupCommit | None = None

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA busy_timeout = 5000")
        await conn.execute("PRAGMA foreign_keys = ON")
        # FULL: a committed verification or outbox row survives a power cut, not only a crash.
        await conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        return conn

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._connect()
        await self._writer.execute("PRAGMA journal_mode = WAL")
        await self.migrate()
        self._group = GroupCommit(self._writer, self._write_lock)
        self._reader = await self._connect()

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        assert self._writer is not None, "store is not open"
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    @property
    def _read(self) -> aiosqlite.Connection:
        assert self._reader is not None, "store is not open"
        return self._reader

    async def migrate(self) -> list[str]:
        conn = self._writer
        assert conn is not None
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        async with conn.execute("SELECT name FROM schema_migrations") as cur:
            done = {row[0] for row in await cur.fetchall()}
        applied = []
        for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
            if path.stem in done:
                continue
            stamp = isoformat(self.clock.now())
            script = path.read_text()
            await conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n"
                f"INSERT INTO schema_migrations (name, applied_at) VALUES ('{path.stem}', '{stamp}');\nCOMMIT;"
            )
            applied.append(path.stem)
        return applied

    async def ping(self) -> bool:
        async with self._read.execute("SELECT 1") as cur:
            return (await cur.fetchone())[0] == 1

    # Sites and contacts
    async def add_site(self, site: Site) -> Site:
        async with self._transaction() as conn:
            await QUERIES.insert_site(conn, id=site.id, dealer_id=site.dealer_id, name=site.name,
                                      time_zone=site.time_zone, created_at=_t(site.created_at))
        return site

    async def get_site(self, site_id: str) -> Site | None:
        row = await QUERIES.get_site(self._read, id=site_id)
        return site_from_row(row) if row else None

    async def list_sites(self, dealer_id: str | None = None) -> list[Site]:
        return [site_from_row(r) async for r in QUERIES.list_sites(self._read, dealer_id=dealer_id)]

    async def add_contact(self, contact: Contact) -> Contact:
        async with self._transaction() as conn:
            new_id = await QUERIES.insert_contact(
                conn, site_id=contact.site_id, group_id=contact.group_id, external_contact_id=contact.external_contact_id,
                first_name=contact.first_name, last_name=contact.last_name, phone=contact.phone,
                email=contact.email, auto_notify=int(contact.auto_notify), email_notify=int(contact.email_notify),
                title=contact.title, slot_number=contact.slot_number, time_zone=contact.time_zone,
                on_test_permission=int(contact.on_test_permission), created_at=_t(contact.created_at),
            )
        return contact_from_row(await QUERIES.get_contact(self._read, id=new_id))

    async def get_contact(self, contact_id: int) -> Contact | None:
        row = await QUERIES.get_contact(self._read, id=contact_id)
        return contact_from_row(row) if row else None

    async def list_contacts(self, site_id: str) -> list[Contact]:
        return [contact_from_row(r) async for r in QUERIES.list_site_contacts(self._read, site_id=site_id)]

    async def contacts_by_phone(self, phone: str) -> list[Contact]:
        return [contact_from_row(r) async for r in QUERIES.contacts_by_phone(self._read, phone=phone)]

    async def get_alarm_event(self, event_id: str) -> AlarmEvent | None:
        row = await QUERIES.get_alarm_event(self._read, id=event_id)
        return alarm_from_row(row) if row else None

    async def inbound_view(self, phone: str, now: datetime) -> InboundView:
        def read(conn: sqlite3.Connection) -> InboundView:
            q = SYNC_QUERIES
            contacts = [contact_from_row(r) for r in q.contacts_by_phone(conn, phone=phone)]
            state = q.get_interface_state(conn, phone=phone)
            open_ = [(verification_from_row(r), r["recipient_contact_id"])
                     for r in q.open_verifications_for_phone(conn, phone=phone, now=_t(now))] if contacts else []
            dispatches = [dispatch_from_row(r) for r in q.open_dispatches_for_phone(conn, phone=phone, now=_t(now))
                          ] if contacts else []
            site = alarm = None
            if open_:
                site = site_from_row(q.get_site(conn, id=open_[0][0].site_id))
                row = q.get_alarm_event(conn, id=open_[0][0].event_id) if open_[0][0].event_id else None
                alarm = alarm_from_row(row) if row else None
            return InboundView(contacts=contacts, state=interface_state_from_row(state) if state else None,
                               open=open_, site=site, alarm=alarm, dispatches=dispatches)

        # One hop to the reader's thread for the five reads every inbound text needs (see groupcommit.py).
        return await self._read._execute(read, self._read._conn)

    # The pipeline's writes
    async def commit(self, decision: Decision) -> CommitResult:
        now = _t(self.clock.now())
        return await self._group.run(lambda conn: self._commit(conn, decision, now))

    @staticmethod
    def _commit(conn: sqlite3.Connection, decision: Decision, now: str) -> CommitResult:
        q = SYNC_QUERIES
        inbound_id = None
        if decision.inbound is not None:
            msg = decision.inbound
            row = q.insert_inbound(conn, carrier=msg.carrier, carrier_message_id=msg.carrier_message_id,
                                   from_phone=msg.from_phone, to_phone=msg.to_phone, body=msg.body,
                                   received_at=_t(msg.received_at))
            if row is None:
                return CommitResult(duplicate=True)
            inbound_id = row[0]
        if decision.alarm is not None:
            a = decision.alarm
            if not q.insert_alarm_event(conn, id=a.id, site_id=a.site_id, event_code=a.event_code, zone=a.zone,
                                        text=a.text, received_at=_t(a.received_at)):
                return CommitResult(duplicate=True)
        for v in decision.opened:
            q.insert_verification(conn, id=v.id, site_id=v.site_id, event_id=v.event_id, process=v.process,
                                  status=v.status, created_at=_t(v.created_at), timeout_at=_t(v.timeout_at),
                                  method=v.method, require_response=int(v.require_response), message=v.message)
            q.insert_recipients(conn, [
                {"verification_id": v.id, "contact_id": r.contact_id, "phone": r.phone, "email": r.email,
                 "channel": r.channel, "status": r.status, "error": r.error}
                for r in v.recipients
            ])
        for d in decision.dispatches:
            q.insert_dispatch(conn, id=d.id, site_id=d.site_id, template=d.template, code=d.code,
                              created_at=_t(d.created_at), reply_until=_t(d.reply_until))
            q.insert_dispatch_recipients(conn, [{"dispatch_id": d.id, "contact_id": contact_id, "phone": phone}
                                                for contact_id, phone in d.recipients])
        for resp in decision.responses:
            params = dict(verification_id=resp.verification_id, contact_id=resp.contact_id,
                          response=resp.response, at=_t(resp.at))
            q.respond_verification(conn, **params)
            q.respond_recipient(conn, **params)
        outbound_ids = []
        for out in decision.outbound:
            outbound_ids.append(q.insert_outbound(
                conn, created_at=now, kind=out.kind, priority=out.priority, status="queued",
                to_phone=out.to_phone, from_phone=out.from_phone or "", body=out.body,
                segments=segments.count(out.body).segments, site_id=out.site_id, contact_id=out.contact_id,
                verification_id=out.verification_id, inbound_id=None, expires_at=_t(out.expires_at),
                carrier=None, sent_at=None, channel=out.channel, to_address=out.to_address, subject=out.subject,
            ))
        if decision.inbound is not None:
            for text in decision.replies:
                q.insert_outbound(
                    conn, created_at=now, kind="reply", priority=0, status="sent",
                    to_phone=decision.inbound.from_phone, from_phone=decision.inbound.to_phone, body=text,
                    segments=segments.count(text).segments, site_id=None, contact_id=None,
                    verification_id=None, inbound_id=inbound_id, expires_at=None,
                    carrier=decision.inbound.carrier, sent_at=now, channel="sms", to_address=None, subject=None,
                )
        if decision.interface_state is not None:
            q.put_interface_state(conn, **_interface_state_params(decision.interface_state, now))
        for test in decision.site_tests:
            q.set_site_test(conn, site_id=test.site_id, until=_t(test.until))
        if decision.log:
            q.insert_log(conn, _log_params(decision.log))
        if decision.notifications:
            q.insert_webhook_events(conn, _notification_params(decision.notifications))
        return CommitResult(inbound_id=inbound_id, outbound_ids=tuple(outbound_ids))

    @staticmethod
    async def _insert_log(conn: aiosqlite.Connection, entries: Sequence[LogEntry]) -> None:
        if entries:
            await QUERIES.insert_log(conn, _log_params(entries))

    @staticmethod
    async def _insert_notifications(conn: aiosqlite.Connection, notifications: Sequence[Notification]) -> None:
        if notifications:
            await QUERIES.insert_webhook_events(conn, _notification_params(notifications))

    async def log(self, entries: Sequence[LogEntry]) -> None:
        async with self._transaction() as conn:
            await self._insert_log(conn, entries)

    # Verifications
    async def open_verifications(self, phone: str, now: datetime) -> list[tuple[Verification, int]]:
        rows = [r async for r in QUERIES.open_verifications_for_phone(self._read, phone=phone, now=_t(now))]
        return [(verification_from_row(r), r["recipient_contact_id"]) for r in rows]

    async def get_verification(self, verification_id: str) -> Verification | None:
        row = await QUERIES.get_verification(self._read, id=verification_id)
        if row is None:
            return None
        recipients = [r async for r in QUERIES.verification_recipients(self._read, verification_id=verification_id)]
        return verification_from_row(row, recipients)

    async def expire_verifications(self, now: datetime, effects_for: Callable[[Verification], Decision]) -> list[Verification]:
        async with self._transaction() as conn:
            rows = [r async for r in QUERIES.expire_verifications(conn, now=_t(now))]
            expired = [
                Verification(id=r["id"], site_id=r["site_id"], event_id=r["event_id"], process=r["process"],
                             status="expired", created_at=now, timeout_at=parse_isoformat(r["timeout_at"]))
                for r in rows
            ]
            for v in expired:
                effects = effects_for(v)
                await self._insert_log(conn, effects.log)
                await self._insert_notifications(conn, effects.notifications)
        return expired

    # Outbox
    async def claim_outbound(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxItem]:
        rows = await self._group.run(lambda conn: list(SYNC_QUERIES.claim_outbound(
            conn, now=_t(now), lease_until=_t(lease_until), limit=limit)))
        items = [outbox_item_from_row(r) for r in rows]
        items.sort(key=lambda i: (-i.priority, i.id))
        return items

    async def release_leases(self, now: datetime) -> int:
        return await self._group.run(lambda conn: SYNC_QUERIES.release_leases(conn, now=_t(now)))

    async def outbound_sent(self, item: OutboxItem, carrier: str, carrier_message_id: str, now: datetime) -> None:
        def write(conn: sqlite3.Connection) -> None:
            SYNC_QUERIES.outbound_sent(conn, id=item.id, carrier=carrier, carrier_message_id=carrier_message_id,
                                       now=_t(now))
            if item.verification_id and item.contact_id is not None:
                SYNC_QUERIES.recipient_sent(conn, verification_id=item.verification_id, contact_id=item.contact_id,
                                            status="sent", channel=item.channel, error=None)
                SYNC_QUERIES.verification_sent(conn, verification_id=item.verification_id)

        await self._group.run(write)

    async def outbound_retry(
        self, item: OutboxItem, next_attempt_at: datetime, error_code: str | None, error: str, now: datetime
    ) -> None:
        await self._group.run(lambda conn: SYNC_QUERIES.outbound_retry(
            conn, id=item.id, next_attempt_at=_t(next_attempt_at), now=_t(now), error_code=error_code,
            error_message=error))

    async def outbound_failed(
        self, item: OutboxItem, status: str, error_code: str | None, error: str, now: datetime, log: Sequence[LogEntry]
    ) -> None:
        def write(conn: sqlite3.Connection) -> None:
            SYNC_QUERIES.outbound_failed(conn, id=item.id, status=status, now=_t(now), error_code=error_code,
                                         error_message=error)
            if item.verification_id and item.contact_id is not None:
                _recipient_failed(conn, item, error, now)
            if log:
                SYNC_QUERIES.insert_log(conn, _log_params(log))

        await self._group.run(write)

    async def outbox_depth(self) -> int:
        return await QUERIES.outbox_depth(self._read)

    async def next_outbound_due(self) -> datetime | None:
        value = await QUERIES.next_outbound_due(self._read)
        return parse_isoformat(value) if value else None

    # Event log
    async def event_log(self, *, site_id: str | None, after: int, limit: int) -> list[LogRow]:
        return [log_row_from_row(r)
                async for r in QUERIES.event_log_page(self._read, site_id=site_id, after=after, limit=limit)]

    # API keys
    async def add_api_key(self, key_id: str, name: str, key_hash: str, now: datetime) -> None:
        async with self._transaction() as conn:
            await QUERIES.insert_api_key(conn, id=key_id, name=name, key_hash=key_hash, created_at=_t(now))

    async def api_key_hash(self, key_id: str) -> str | None:
        row = await QUERIES.get_api_key(self._read, id=key_id)
        return row["key_hash"] if row else None

    # The loopback carrier's own record
    async def record_loopback(self, item: OutboxItem, now: datetime) -> int:
        def write(conn: sqlite3.Connection) -> int:
            SYNC_QUERIES.insert_loopback_message(conn, outbound_id=item.id, to_phone=item.to_phone,
                                                 from_phone=item.from_phone, body=item.body, sent_at=_t(now))
            return conn.execute("SELECT last_insert_rowid()").fetchone()[0]

        return await self._group.run(write)

    async def loopback_messages(self, *, to_phone: str | None, after: int, limit: int) -> list[dict[str, Any]]:
        return [dict(r) async for r in QUERIES.loopback_messages(self._read, to_phone=to_phone, after=after, limit=limit)]

    # SMS interface: site groups, PINs, per-number state, sites on test
    async def add_site_group(self, group: SiteGroup) -> SiteGroup:
        async with self._transaction() as conn:
            await QUERIES.insert_site_group(conn, id=group.id, dealer_id=group.dealer_id, name=group.name,
                                            created_at=_t(group.created_at))
        return group

    async def get_site_group(self, group_id: str) -> SiteGroup | None:
        row = await QUERIES.get_site_group(self._read, id=group_id)
        return group_from_row(row) if row else None

    async def list_site_groups(self) -> list[SiteGroup]:
        return [group_from_row(r) async for r in QUERIES.list_site_groups(self._read)]

    async def add_site_to_group(self, group_id: str, site_id: str) -> None:
        async with self._transaction() as conn:
            await QUERIES.add_site_to_group(conn, group_id=group_id, site_id=site_id)

    async def group_sites(self, group_id: str) -> list[Site]:
        return [site_from_row(r) async for r in QUERIES.group_sites(self._read, group_id=group_id)]

    async def set_pin(self, contact_id: int, pin_hash: str | None, expires_at: datetime | None) -> None:
        async with self._transaction() as conn:
            await QUERIES.set_contact_pin(conn, id=contact_id, pin_hash=pin_hash, pin_expires_at=_t(expires_at))

    async def set_duress_pin(self, contact_id: int, pin_hash: str | None) -> None:
        async with self._transaction() as conn:
            await QUERIES.set_contact_duress_pin(conn, id=contact_id, duress_pin_hash=pin_hash)

    async def set_on_test_permission(self, contact_id: int, allowed: bool) -> None:
        async with self._transaction() as conn:
            await QUERIES.set_contact_on_test_permission(conn, id=contact_id, allowed=int(allowed))

    async def interface_state(self, phone: str) -> InterfaceState | None:
        row = await QUERIES.get_interface_state(self._read, phone=phone)
        return interface_state_from_row(row) if row else None

    async def recent_events(self, site_id: str, limit: int) -> list[LogRow]:
        return [log_row_from_row(r) async for r in QUERIES.recent_site_events(self._read, site_id=site_id, limit=limit)]

    async def end_site_tests(self, now: datetime, log_for: Callable[[str, str], Sequence[LogEntry]]) -> list[str]:
        async with self._transaction() as conn:
            rows = [(r["id"], r["name"]) async for r in QUERIES.end_site_tests(conn, now=_t(now))]
            for site_id, name in rows:
                await self._insert_log(conn, log_for(site_id, name))
        return [site_id for site_id, _ in rows]

    # Webhook deliveries
    async def fan_out_webhook_events(
        self, now: datetime, subscribers_for: Callable[[str, datetime], Sequence[str]], limit: int
    ) -> int:
        async with self._transaction() as conn:
            events = [r async for r in QUERIES.webhook_events_after_cursor(conn, limit=limit)]
            if not events:
                return 0
            await QUERIES.insert_webhook_deliveries(conn, [
                {"subscriber": key, "webhook_event_id": e["id"], "now": _t(now)}
                for e in events for key in subscribers_for(e["event_type"], parse_isoformat(e["created_at"]))
            ])
            await QUERIES.advance_webhook_cursor(conn, last_event_id=events[-1]["id"])
        return len(events)

    async def claim_webhook_deliveries(self, now: datetime, lease_until: datetime, limit: int) -> list[WebhookDelivery]:
        async with self._transaction() as conn:
            claimed = [dict(r) async for r in QUERIES.claim_webhook_deliveries(
                conn, now=_t(now), lease_until=_t(lease_until), limit=limit)]
            ids = json.dumps(sorted({c["webhook_event_id"] for c in claimed}))
            events = {r["id"]: r async for r in QUERIES.webhook_events_by_ids(conn, ids=ids)} if claimed else {}
        return sorted((WebhookDelivery(
            id=c["id"], subscriber=c["subscriber"], webhook_event_id=c["webhook_event_id"], attempts=c["attempts"],
            event_type=events[c["webhook_event_id"]]["event_type"], data=events[c["webhook_event_id"]]["data"],
            event_created_at=parse_isoformat(events[c["webhook_event_id"]]["created_at"]),
        ) for c in claimed), key=lambda d: d.id)

    async def release_webhook_leases(self, now: datetime) -> int:
        async with self._transaction() as conn:
            return await QUERIES.release_webhook_leases(conn, now=_t(now))

    async def webhook_delivered(self, delivery_id: int, now: datetime) -> None:
        async with self._transaction() as conn:
            await QUERIES.webhook_delivered(conn, id=delivery_id, now=_t(now))

    async def webhook_retry(self, delivery_id: int, next_attempt_at: datetime, error: str) -> None:
        async with self._transaction() as conn:
            await QUERIES.webhook_retry(conn, id=delivery_id, next_attempt_at=_t(next_attempt_at), error=error)

    async def webhook_failed(self, delivery_id: int, error: str, log: Sequence[LogEntry]) -> None:
        async with self._transaction() as conn:
            await QUERIES.webhook_failed(conn, id=delivery_id, error=error)
            await self._insert_log(conn, log)

    async def webhook_deliveries_by_status(self) -> dict[str, int]:
        return {r["status"]: r["n"] async for r in QUERIES.webhook_delivery_counts(self._read)}

    # Verifications API: response links
    async def add_response_token(self, token_hash: str, verification_id: str, contact_id: int,
                                 expires_at: datetime) -> None:
        await self._group.run(lambda conn: SYNC_QUERIES.insert_response_token(
            conn, token_hash=token_hash, verification_id=verification_id, contact_id=contact_id,
            expires_at=_t(expires_at)))

    async def response_token(self, token_hash: str) -> dict[str, Any] | None:
        row = await QUERIES.get_response_token(self._read, token_hash=token_hash)
        return dict(row) if row else None

    async def use_response_token(self, token_hash: str, now: datetime) -> bool:
        return bool(await self._group.run(lambda conn: SYNC_QUERIES.use_response_token(
            conn, token_hash=token_hash, now=_t(now))))

    # Twilio: delivery status, opt-outs, lookups
    async def delivery_report(
        self, report: DeliveryReport, log_for: Callable[[OutboxItem, DeliveryReport], Sequence[LogEntry]]
    ) -> DeliveryResult:
        key = dict(carrier=report.carrier, carrier_message_id=report.carrier_message_id)

        def write(conn: sqlite3.Connection) -> DeliveryResult:
            q = SYNC_QUERIES
            q.insert_delivery_status(conn, status=report.status, error_code=report.error_code,
                                     received_at=_t(report.at), **key)
            before = q.outbound_by_carrier_id(conn, **key)
            if before is None:
                return DeliveryResult(known=False)
            row = q.advance_outbound_status(conn, status=report.status, rank=report.rank, outcome=report.outcome,
                                            error_code=report.error_code, now=_t(report.at), **key)
            if row is None or report.outcome is None or before["status"] != "sent":
                return DeliveryResult(known=True)
            item = outbox_item_from_row(row)
            if item.verification_id and item.contact_id is not None:
                if report.outcome == "delivered":
                    q.recipient_sent(conn, verification_id=item.verification_id, contact_id=item.contact_id,
                                     status="delivered", channel=item.channel, error=None)
                    q.verification_delivered(conn, verification_id=item.verification_id)
                else:
                    _recipient_failed(conn, item, f"carrier error {report.error_code or report.status}", report.at)
            entries = log_for(item, report)
            if entries:
                q.insert_log(conn, _log_params(entries))
            return DeliveryResult(known=True, settled=item)

        return await self._group.run(write)

    async def opted_out(self, phone: str) -> bool:
        row = await QUERIES.get_opt_out(self._read, phone=phone)
        return bool(row and row["opted_out"])

    async def set_opt_out(self, phone: str, opted_out: bool, source: str, now: datetime,
                          log: Sequence[LogEntry]) -> bool:
        async with self._transaction() as conn:
            row = await QUERIES.get_opt_out(conn, phone=phone)
            if bool(row and row["opted_out"]) == opted_out:
                return False
            await QUERIES.upsert_opt_out(conn, phone=phone, opted_out=int(opted_out), source=source,
                                         changed_at=_t(now))
            await self._insert_log(conn, log)
        return True

    async def cached_lookup(self, phone: str) -> PhoneLookup | None:
        row = await QUERIES.get_phone_lookup(self._read, phone=phone)
        if row is None:
            return None
        return PhoneLookup(phone=row["phone"], valid=bool(row["valid"]), line_type=row["line_type"],
                           carrier_name=row["carrier_name"], looked_up_at=parse_isoformat(row["looked_up_at"]))

    async def save_lookup(self, lookup: PhoneLookup) -> None:
        async with self._transaction() as conn:
            await QUERIES.upsert_phone_lookup(conn, phone=lookup.phone, valid=int(lookup.valid),
                                              line_type=lookup.line_type, carrier_name=lookup.carrier_name,
                                              looked_up_at=_t(lookup.looked_up_at))
            await QUERIES.set_phone_status(conn, phone=lookup.phone, phone_status=lookup.phone_status,
                                           line_type=lookup.line_type)


    # Partner API: sites, contacts, OAuth, welcome
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

    async def get_welcome(self, contact_id: int) -> Welcome | None:
        row = await QUERIES.get_welcome(self._read, contact_id=contact_id)
        return welcome_from_row(row) if row else None

    async def site_welcomes(self, site_id: str) -> dict[int, Welcome]:
        return {r["contact_id"]: welcome_from_row(r) async for r in QUERIES.site_welcomes(self._read, site_id=site_id)}

    async def start_welcome(self, contact_id: int, token_hash: str, token_expires_at: datetime,
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
