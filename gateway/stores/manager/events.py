"""The event log, and the webhook deliveries that carry notifications to subscribers: events fanned
out into one delivery per subscriber, claimed under a lease like the outbox, marked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from gateway.model import LogEntry, LogRow
from gateway.stores.connector import Body, Op
from gateway.stores.manager.base import StoreBase, write_log
from gateway.stores.records import WebhookDelivery, log_row_from_row


class EventStore(StoreBase):
    # Event log
    async def event_log(self, *, site_id: str | None, after: int, limit: int) -> list[LogRow]:
        return [log_row_from_row(r) for r in await self.db.fetch("event_log_page", site_id=site_id, after=after,
                                                                 limit=limit)]

    async def log(self, entries: Sequence[LogEntry]) -> None:
        """Write event-log rows that go with no other write (a canary missed)."""
        await self.db.transaction(write_log, entries)

    async def recent_events(self, site_id: str, limit: int, hidden: Sequence[str] = ()) -> list[LogRow]:
        """The site's last ``limit`` event-log rows whose code is not in ``hidden``, newest first (the limit
        counts only the rows returned, so hiding a row never shortens the list)."""
        return [log_row_from_row(r) for r in await self.db.fetch("recent_site_events", site_id=site_id,
                                                                 hidden=list(hidden), limit=limit)]

    # Webhook deliveries
    async def fan_out_webhook_events(
        self, now: datetime, subscribers_for: Callable[[str, datetime], Sequence[str]], limit: int
    ) -> int:
        """In one transaction: read up to ``limit`` webhook events after the cursor, queue a delivery due
        ``now`` for each subscriber key ``subscribers_for(event_type, created_at)`` names, move the
        cursor past them. The number of events read (0: caught up)."""
        return await self.db.transaction(_fan_out, now, subscribers_for, limit)

    async def claim_webhook_deliveries(self, now: datetime, lease_until: datetime, limit: int) -> list[WebhookDelivery]:
        """Due deliveries, oldest first, leased to this daemon until ``lease_until`` with their attempt counted."""
        return await self.db.transaction(_claim_deliveries, now, lease_until, limit, self.claimer)

    async def release_webhook_leases(self, now: datetime) -> int:
        """At start, where one daemon serves the store: make every delivery a previous process left
        'sending' due now (as :meth:`release_leases` for the outbox). The number released."""
        if not self.db.exclusive:
            return 0
        return await self.db.execute("release_webhook_leases", now=now)

    async def webhook_delivered(self, delivery_id: int, now: datetime) -> None:
        await self.db.execute("webhook_delivered", id=delivery_id, now=now, claimer=self.claimer)

    async def webhook_retry(self, delivery_id: int, next_attempt_at: datetime, error: str) -> None:
        await self.db.execute("webhook_retry", id=delivery_id, next_attempt_at=next_attempt_at, error=error,
                              claimer=self.claimer)

    async def webhook_failed(self, delivery_id: int, error: str, log: Sequence[LogEntry]) -> None:
        """Give up on a delivery and log why, in one transaction."""
        await self.db.transaction(_delivery_failed, delivery_id, error, log, self.claimer)


def _fan_out(now: datetime, subscribers_for: Callable[[str, datetime], Sequence[str]], limit: int) -> Body[int]:
    events = yield Op("webhook_events_after_cursor", {"limit": limit})
    if not events:
        return 0
    deliveries = [{"subscriber": key, "webhook_event_id": e["id"], "now": now}
                  for e in events for key in subscribers_for(e["event_type"], e["created_at"])]
    if deliveries:
        yield Op("insert_webhook_deliveries", deliveries)
    # PostgreSQL's cursor is the last event's (tx, id) (sql/postgres/migrations/0012_paging.sql)
    yield Op("advance_webhook_cursor", {"last_event_id": events[-1]["id"], "last_tx": events[-1].get("tx", 0)})
    return len(events)


def _claim_deliveries(now: datetime, lease_until: datetime, limit: int, claimer: str) -> Body[list[WebhookDelivery]]:
    claimed = yield Op("claim_webhook_deliveries", {"now": now, "lease_until": lease_until, "limit": limit,
                                                    "claimer": claimer})
    if not claimed:
        return []
    ids = sorted({c["webhook_event_id"] for c in claimed})
    events = {r["id"]: r for r in (yield Op("webhook_events_by_ids", {"ids": ids}))}
    return sorted((WebhookDelivery(
        id=c["id"], subscriber=c["subscriber"], webhook_event_id=c["webhook_event_id"], attempts=c["attempts"],
        event_type=events[c["webhook_event_id"]]["event_type"], data=events[c["webhook_event_id"]]["data"],
        event_created_at=events[c["webhook_event_id"]]["created_at"]) for c in claimed), key=lambda d: d.id)


def _delivery_failed(delivery_id: int, error: str, log: Sequence[LogEntry], claimer: str) -> Body[None]:
    yield Op("webhook_failed", {"id": delivery_id, "error": error, "claimer": claimer})
    yield from write_log(log)
