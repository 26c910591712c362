"""The outbox: claims under a lease, the sender's marks, carrier delivery reports, the loopback
carrier's record.

A claim leases each message to this store's ``claimer`` (one id per daemon process) until
``lease_until``; only the holder's marks count, and a message whose lease ran out is due
again for any daemon (at-least-once delivery). PostgreSQL claims skip rows another daemon is
claiming at that moment (``FOR UPDATE SKIP LOCKED``), so concurrent claims never take one
message twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from gateway.model import DeliveryReport, LogEntry
from gateway.stores.connector import Body, Op
from gateway.stores.manager.base import StoreBase, write_log
from gateway.stores.manager.verifications import recipient_failed
from gateway.stores.records import DeliveryResult, OutboxItem, outbox_item_from_row


class OutboxStore(StoreBase):
    async def claim_outbound(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxItem]:
        """Up to ``limit`` due messages, highest priority then oldest first, leased until ``lease_until``
        with their attempt counted."""
        rows = await self.db.execute("claim_outbound", now=now, lease_until=lease_until, limit=limit,
                                     claimer=self.claimer)
        return sorted((outbox_item_from_row(r) for r in rows), key=lambda i: (-i.priority, i.id))

    async def release_leases(self, now: datetime) -> int:
        """At start: make what a previous process left mid-send due now, where the engine allows one
        daemon only (SQLite). Where several share the store, nothing is released: another daemon may be
        sending it, and its lease running out is what makes it due again. The number released."""
        if not self.db.exclusive:
            return 0
        return await self.db.execute("release_leases", now=now)

    async def release_own_claims(self, now: datetime, sending: Sequence[int]) -> int:
        """Make due now every message this daemon holds a claim on but is not ``sending`` (ids): a claim that
        committed while its answer was lost with the connection. The number released."""
        return await self.db.execute("release_own_claims", now=now, claimer=self.claimer, keep=list(sending))

    async def outbound_sent(
        self, item: OutboxItem, carrier: str, carrier_message_id: str, now: datetime,
        log_for: Callable[[OutboxItem, DeliveryReport], Sequence[LogEntry]] | None = None,
    ) -> tuple[LogEntry, ...]:
        """Record that ``carrier`` took ``item`` as ``carrier_message_id``, and apply, in the same transaction, the
        reports the carrier sent about it before this record (a fast report overtakes it, on any daemon: it is
        recorded, not lost) as ``delivery_report`` would, logging ``log_for``. The rows logged."""
        return await self.db.transaction(_sent, item, carrier, carrier_message_id, now, self.claimer,
                                         log_for or _nothing_to_log)

    async def outbound_retry(
        self, item: OutboxItem, next_attempt_at: datetime, error_code: str | None, error: str, now: datetime
    ) -> None:
        await self.db.execute("outbound_retry", id=item.id, next_attempt_at=next_attempt_at, now=now,
                              error_code=error_code, error_message=error, claimer=self.claimer)

    async def outbound_defer(self, item: OutboxItem, next_attempt_at: datetime, reason: str, now: datetime) -> None:
        """Put a claimed message back, due at ``next_attempt_at``, without counting the claim as an attempt."""
        await self.db.execute("outbound_defer", id=item.id, next_attempt_at=next_attempt_at, now=now, reason=reason,
                              claimer=self.claimer)

    async def outbound_failed(
        self, item: OutboxItem, status: str, error_code: str | None, error: str, now: datetime, log: Sequence[LogEntry]
    ) -> None:
        """Give up on ``item`` (status failed or expired) and log why, in one transaction."""
        await self.db.transaction(_failed, item, status, error_code, error, now, log, self.claimer)

    async def outbox_depth(self) -> int:
        return await self.db.fetch("outbox_depth")

    async def outbox_oldest(self) -> dict[str, datetime]:
        """By kind, when the oldest message still queued or sending was queued (kinds with none left out)."""
        return {r["kind"]: r["oldest_at"] for r in await self.db.fetch("outbox_oldest")}

    # The sending pace shared by the daemons (gateway/loops/pace.py)
    @property
    def shared(self) -> bool:
        """True when other daemons may use this database at the same time (PostgreSQL)."""
        return not self.db.exclusive

    async def reserve_pace(self, sender: str, cost_seconds: float, now: datetime) -> datetime:
        """Take ``cost_seconds`` of ``sender``'s sending budget, atomically for every daemon; when its budget is
        full again after this reservation."""
        row = await self.db.execute("reserve_pace", sender=sender, cost_seconds=cost_seconds, now=now)
        return row["full_at"]

    async def refund_pace(self, sender: str, cost_seconds: float, now: datetime) -> None:
        """Give back a reservation that was not used (never to before ``now``)."""
        await self.db.execute("refund_pace", sender=sender, cost_seconds=cost_seconds, now=now)

    async def sends_in_flight(self, now: datetime) -> bool:
        """Whether any daemon holds a message claimed for sending (its carrier call may be under way)."""
        return bool(await self.db.fetch("sends_in_flight", now=now))

    # Carrier delivery reports
    async def delivery_report(
        self, report: DeliveryReport, log_for: Callable[[OutboxItem, DeliveryReport], Sequence[LogEntry]]
    ) -> DeliveryResult:
        """Record a carrier's report and move its message forward, never back.

        A final report settles the message and its verification recipient (delivered or
        failed) and logs ``log_for(item, report)``, all in one transaction.
        """
        return await self.db.transaction(_delivery_report, report, log_for)

    # The loopback carrier's own record
    async def record_loopback(self, item: OutboxItem, now: datetime) -> int:
        return await self.db.execute("insert_loopback_message", outbound_id=item.id, to_phone=item.to_phone,
                                     from_phone=item.from_phone, body=item.body, sent_at=now,
                                     kind="call" if item.channel == "call" else "sms")

    async def loopback_messages(self, *, to_phone: str | None, after: int, limit: int) -> list[dict[str, Any]]:
        return await self.db.fetch("loopback_messages", to_phone=to_phone, after=after, limit=limit)


def _nothing_to_log(_item: OutboxItem, _report: DeliveryReport) -> Sequence[LogEntry]:
    return ()


def _sent(item: OutboxItem, carrier: str, carrier_message_id: str, now: datetime, claimer: str,
          log_for: Callable[[OutboxItem, DeliveryReport], Sequence[LogEntry]]) -> Body[tuple[LogEntry, ...]]:
    key = {"carrier": carrier, "carrier_message_id": carrier_message_id}
    yield Op("lock_carrier_message", key)  # first: a report about it committing meanwhile is seen below
    yield Op("outbound_sent", {"id": item.id, **key, "now": now, "claimer": claimer})
    if item.verification_id and item.contact_id is not None:
        yield Op("recipient_sent", {"verification_id": item.verification_id, "contact_id": item.contact_id,
                                    "status": "sent", "channel": item.channel, "error": None})
        yield Op("verification_sent", {"verification_id": item.verification_id})
    logged: tuple[LogEntry, ...] = ()
    for early in (yield Op("delivery_statuses_of", key)):
        report = DeliveryReport(**key, status=early["status"], error_code=early["error_code"],
                                at=early["received_at"])
        logged += (yield from _apply_report(report, log_for)).logged
    return logged


def _failed(item: OutboxItem, status: str, error_code: str | None, error: str, now: datetime,
            log: Sequence[LogEntry], claimer: str) -> Body[None]:
    yield Op("outbound_failed", {"id": item.id, "status": status, "now": now, "error_code": error_code,
                                 "error_message": error, "claimer": claimer})
    if item.verification_id and item.contact_id is not None:
        yield from recipient_failed(item.verification_id, item.contact_id, item.channel, error, now)
    yield from write_log(log)


def _delivery_report(report: DeliveryReport,
                     log_for: Callable[[OutboxItem, DeliveryReport], Sequence[LogEntry]]) -> Body[DeliveryResult]:
    key = {"carrier": report.carrier, "carrier_message_id": report.carrier_message_id}
    yield Op("lock_carrier_message", key)  # first: the send's record committing meanwhile is seen below
    yield Op("insert_delivery_status", {**key, "status": report.status, "error_code": report.error_code,
                                        "received_at": report.at})
    return (yield from _apply_report(report, log_for))


def _apply_report(report: DeliveryReport,
                  log_for: Callable[[OutboxItem, DeliveryReport], Sequence[LogEntry]]) -> Body[DeliveryResult]:
    """Move the message ``report`` is about forward (when it is recorded yet)."""
    key = {"carrier": report.carrier, "carrier_message_id": report.carrier_message_id}
    before = yield Op("outbound_by_carrier_id", key)
    if before is None:
        return DeliveryResult(known=False)
    row = yield Op("advance_outbound_status", {**key, "status": report.status, "rank": report.rank,
                                               "outcome": report.outcome, "error_code": report.error_code,
                                               "now": report.at})
    if row is None or report.outcome is None or before["status"] != "sent":
        return DeliveryResult(known=True)
    item = outbox_item_from_row(row)
    if item.verification_id and item.contact_id is not None:
        if report.outcome == "delivered":
            yield Op("recipient_sent", {"verification_id": item.verification_id, "contact_id": item.contact_id,
                                        "status": "delivered", "channel": item.channel, "error": None})
            yield Op("verification_delivered", {"verification_id": item.verification_id})
        else:
            yield from recipient_failed(item.verification_id, item.contact_id, item.channel,
                                        f"carrier error {report.error_code or report.status}", report.at)
    entries = tuple(log_for(item, report))
    yield from write_log(entries)
    return DeliveryResult(known=True, logged=entries)
