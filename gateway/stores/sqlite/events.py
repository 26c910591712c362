"""The event log, and webhook deliveries: events fanned out to subscribers, claimed, marked."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime

from gateway.clock import parse_isoformat
from gateway.model import LogEntry
from gateway.model import LogRow
from gateway.stores.records import WebhookDelivery, log_row_from_row
from gateway.stores.sqlite.engine import SQLiteEngine
from gateway.stores.sqlite.queries import QUERIES, _t


class SQLiteEvents(SQLiteEngine):
    """``EventStore`` (gateway/stores/base/events.py) on SQLite."""

    # Event log
    async def event_log(self, *, site_id: str | None, after: int, limit: int) -> list[LogRow]:
        return [log_row_from_row(r)
                async for r in QUERIES.event_log_page(self._read, site_id=site_id, after=after, limit=limit)]

    async def log(self, entries: Sequence[LogEntry]) -> None:
        async with self._transaction() as conn:
            await self._insert_log(conn, entries)

    async def recent_events(self, site_id: str, limit: int, hidden: Sequence[str] = ()) -> list[LogRow]:
        return [log_row_from_row(r) async for r in QUERIES.recent_site_events(
            self._read, site_id=site_id, hidden=json.dumps(list(hidden)), limit=limit)]

    async def verification_log(self, site_id: str, verification_id: str, limit: int) -> list[LogRow]:
        return [log_row_from_row(r) async for r in QUERIES.verification_log(
            self._read, site_id=site_id, verification_id=verification_id, limit=limit)]

    async def dispatch_log(self, site_id: str, dispatch_id: str, limit: int) -> list[LogRow]:
        return [log_row_from_row(r) async for r in QUERIES.dispatch_log(
            self._read, site_id=site_id, dispatch_id=dispatch_id, limit=limit)]

    async def phone_log(self, phone: str, limit: int) -> list[LogRow]:
        return [log_row_from_row(r) async for r in QUERIES.phone_log(self._read, phone=phone, limit=limit)]

    async def alarm_log(self, site_id: str, event_id: str, limit: int) -> list[LogRow]:
        return [log_row_from_row(r) async for r in QUERIES.alarm_log(
            self._read, site_id=site_id, event_id=event_id, limit=limit)]

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
