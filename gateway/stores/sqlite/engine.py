"""The SQLite engine's core: its two connections, one-off transactions, group commits
(gateway/stores/groupcommit.py), migrations, the pipeline's one read and one write, and the
inbound texts recorded."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path

import aiosqlite

from gateway.core import segments
from gateway.clock import Clock, isoformat, parse_isoformat
from gateway.errors import StaleDecision, ConfigurationError
from gateway.model import Decision, LogEntry, Notification
from gateway.stores.groupcommit import GroupCommit
from gateway.stores.sqlite.outage import WriteOutage
from gateway.stores.records import (
    CommitResult, InboundView, alarm_from_row, contact_from_row, dispatch_from_row, interface_state_from_row,
    site_from_row, verification_from_row,
)
from gateway.stores.sqlite.queries import (
    QUERIES, SQL_DIR, SYNC_QUERIES, _interface_state_params, _log_params, _notification_params, _t,
)


APPLICATION_ID = 0x47415445  # "GATE": marks the file as this gateway's store (``PRAGMA application_id``)


def sqlite_path(url: str) -> Path:
    """``sqlite:///var/x.sqlite3`` is relative to the working directory, ``sqlite:////abs`` absolute."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix:
        raise ConfigurationError(f"database.url: {url!r} is not sqlite:///PATH")
    return Path(url[len(prefix):])


class SQLiteEngine:
    """Connections and transactions every area of ``SQLiteStore`` builds on."""

    engine = "sqlite"

    def __init__(self, url: str, *, clock: Clock | None = None, synchronous: str = "FULL") -> None:
        self.path = sqlite_path(url)
        self.clock = clock or Clock()
        self.synchronous = synchronous
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._group: GroupCommit | None = None
        self._outage = WriteOutage(self.path, self.clock)

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
        self._group = GroupCommit(self._writer, self._write_lock, self._outage)
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
            changes = self._writer.total_changes
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
                try:
                    yield self._writer
                except BaseException:
                    if self._writer.in_transaction:  # SQLite may have rolled back itself (a full disk)
                        await self._writer.execute("ROLLBACK")
                    raise
                await self._writer.execute("COMMIT")
            except sqlite3.Error as exc:
                self._outage.check(exc)
                raise
            if self._writer.total_changes > changes:
                self._outage.succeeded()

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
            if (await cur.fetchone())[0] != 1:
                return False
        if not self._outage.recently_written(1.0):  # under load the last second's writes tell; else write one
            # A one-page write (the file header's application id), which fails as soon as the file cannot grow.
            await self._group.run(lambda conn: conn.execute(f"PRAGMA application_id = {APPLICATION_ID}"))
            self._outage.succeeded()
        return True

    # The pipeline's read and write
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
            if not q.respond_verification(conn, **params):
                # Answered or expired since the pipeline read it: nothing of this decision may stand.
                raise StaleDecision(f"verification {resp.verification_id} is no longer open",
                                    verification_id=resp.verification_id)
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

    # Inbound texts recorded
    async def newest_inbound_at(self, carrier: str, to_phone: str) -> datetime | None:
        value = await QUERIES.newest_inbound_at(self._read, carrier=carrier, to_phone=to_phone)
        return parse_isoformat(value) if value else None

    async def seen_inbound(self, carrier: str, carrier_message_ids: Sequence[str]) -> set[str]:
        if not carrier_message_ids:
            return set()
        return {r["carrier_message_id"] async for r in QUERIES.seen_inbound(
            self._read, carrier=carrier, ids=json.dumps(list(carrier_message_ids)))}

    # Log rows and webhook events, written inside the caller's transaction
    @staticmethod
    async def _insert_log(conn: aiosqlite.Connection, entries: Sequence[LogEntry]) -> None:
        if entries:
            await QUERIES.insert_log(conn, _log_params(entries))

    @staticmethod
    async def _insert_notifications(conn: aiosqlite.Connection, notifications: Sequence[Notification]) -> None:
        if notifications:
            await QUERIES.insert_webhook_events(conn, _notification_params(notifications))
