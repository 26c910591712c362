"""Verifications and the messages that carry them: the outbox, carrier delivery reports, response
links, the loopback carrier's record."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from gateway.clock import parse_isoformat
from gateway.model import Decision, DeliveryReport, Dispatch, InboundMessage, LogEntry, Verification
from gateway.stores.records import (
    DeliveryResult, FailedText, InboundText, OutboundText, OutboxItem, dispatch_from_row, failed_text_from_row,
    inbound_text_from_row, outbound_text_from_row, outbox_item_from_row, verification_from_row,
)
from gateway.stores.sqlite.engine import SQLiteEngine
from gateway.stores.sqlite.queries import QUERIES, SYNC_QUERIES, _log_params, _recipient_failed, _t


class SQLiteOutbox(SQLiteEngine):
    """``OutboxStore`` (gateway/stores/base/outbox.py) on SQLite."""

    # Verifications
    async def open_verifications(self, phone: str, now: datetime) -> list[tuple[Verification, int]]:
        rows = [r async for r in QUERIES.open_verifications_for_phone(self._read, phone=phone, now=_t(now))]
        return [(verification_from_row(r), r["recipient_contact_id"]) for r in rows]

    async def verifications_open_at(self, phone: str, at: datetime) -> list[tuple[Verification, int]]:
        rows = [r async for r in QUERIES.verifications_open_at(self._read, phone=phone, at=_t(at))]
        return [(verification_from_row(r), r["recipient_contact_id"]) for r in rows]

    async def get_verification(self, verification_id: str) -> Verification | None:
        row = await QUERIES.get_verification(self._read, id=verification_id)
        if row is None:
            return None
        recipients = [r async for r in QUERIES.verification_recipients(self._read, verification_id=verification_id)]
        return verification_from_row(row, recipients)

    async def verifications_since(self, since: datetime, limit: int) -> list[Verification]:
        return await self._with_recipients(
            [r async for r in QUERIES.verifications_since(self._read, since=_t(since), limit=limit)])

    async def _with_recipients(self, rows: list) -> list[Verification]:
        recipients: dict[str, list] = {r["id"]: [] for r in rows}
        if rows:
            async for x in QUERIES.recipients_of_verifications(self._read, ids=json.dumps(list(recipients))):
                recipients[x["verification_id"]].append(x)
        return [verification_from_row(r, recipients[r["id"]]) for r in rows]

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

    async def outbound_defer(self, item: OutboxItem, next_attempt_at: datetime, reason: str, now: datetime) -> None:
        await self._group.run(lambda conn: SYNC_QUERIES.outbound_defer(
            conn, id=item.id, next_attempt_at=_t(next_attempt_at), now=_t(now), reason=reason))

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

    async def outbox_oldest(self) -> dict[str, datetime]:
        return {r["kind"]: parse_isoformat(r["oldest"]) async for r in QUERIES.outbox_oldest(self._read)}

    async def next_outbound_due(self) -> datetime | None:
        value = await QUERIES.next_outbound_due(self._read)
        return parse_isoformat(value) if value else None

    async def send_failures_since(self, since: datetime) -> dict[str, int]:
        return {r["error_code"]: r["n"] async for r in QUERIES.send_failures_since(self._read, since=_t(since))}

    async def last_failed_texts(self, site_id: str) -> dict[int, FailedText]:
        return {r["contact_id"]: failed_text_from_row(r)
                async for r in QUERIES.last_failed_texts(self._read, site_id=site_id)}

    # What happened to a number, or to one verification (gateway trace)
    async def outbound_texts(self, *, phone: str | None = None, verification_id: str | None = None,
                             limit: int) -> list[OutboundText]:
        if (phone is None) == (verification_id is None):
            raise ValueError("outbound_texts: give phone or verification_id")
        if phone is not None:
            rows = [r async for r in QUERIES.outbound_texts_to_phone(self._read, phone=phone, limit=limit)]
        else:
            rows = [r async for r in QUERIES.outbound_of_verification(
                self._read, verification_id=verification_id, limit=limit)]
        reports: dict[int, list] = {r["id"]: [] for r in rows}
        if rows:
            async for x in QUERIES.carrier_reports_of_outbound(self._read, ids=json.dumps(list(reports))):
                reports[x["outbound_id"]].append(x)
        return [outbound_text_from_row(r, reports[r["id"]]) for r in rows]

    async def inbound_texts(self, phone: str, limit: int) -> list[InboundText]:
        return [inbound_text_from_row(r)
                async for r in QUERIES.inbound_texts_from_phone(self._read, phone=phone, limit=limit)]

    async def verifications_for_phone(self, phone: str, limit: int) -> list[Verification]:
        return await self._with_recipients(
            [r async for r in QUERIES.verifications_for_phone(self._read, phone=phone, limit=limit)])

    async def site_verifications(self, site_id: str, limit: int) -> list[Verification]:
        return await self._with_recipients(
            [r async for r in QUERIES.site_verifications(self._read, site_id=site_id, limit=limit)])

    # Dispatch SMS
    async def get_dispatch(self, dispatch_id: str) -> Dispatch | None:
        row = await QUERIES.get_dispatch(self._read, id=dispatch_id)
        if row is None:
            return None
        recipients = tuple([(r["contact_id"], r["phone"]) async for r in QUERIES.dispatch_recipients(
            self._read, dispatch_id=dispatch_id)])
        return msgspec.structs.replace(dispatch_from_row(row), recipients=recipients)

    # Carrier delivery reports
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

    # The loopback carrier's own record
    async def record_loopback(self, item: OutboxItem, now: datetime) -> int:
        def write(conn: sqlite3.Connection) -> int:
            SYNC_QUERIES.insert_loopback_message(conn, outbound_id=item.id, to_phone=item.to_phone,
                                                 from_phone=item.from_phone, body=item.body, sent_at=_t(now))
            return conn.execute("SELECT last_insert_rowid()").fetchone()[0]

        return await self._group.run(write)

    async def loopback_messages(self, *, to_phone: str | None, after: int, limit: int) -> list[dict[str, Any]]:
        return [dict(r) async for r in QUERIES.loopback_messages(self._read, to_phone=to_phone, after=after, limit=limit)]

    async def record_loopback_inbound(self, message: InboundMessage) -> bool:
        async with self._transaction() as conn:
            row = await QUERIES.insert_loopback_inbound(
                conn, message_id=message.carrier_message_id, from_phone=message.from_phone,
                to_phone=message.to_phone, body=message.body, received_at=_t(message.received_at))
        return row is not None

    async def loopback_inbound(self, to_phone: str, since: datetime, limit: int) -> list[InboundMessage]:
        return [InboundMessage(carrier="loopback", carrier_message_id=r["message_id"], from_phone=r["from_phone"],
                               to_phone=r["to_phone"], body=r["body"], received_at=parse_isoformat(r["received_at"]))
                async for r in QUERIES.loopback_inbound(self._read, to_phone=to_phone, since=_t(since), limit=limit)]
