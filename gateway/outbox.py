"""The sender loop: delivers committed outbox messages through the carrier, with retries.

A message is in the outbox (committed) before the carrier hears of it. The loop claims due
messages under a lease, highest priority and oldest first; a message whose sender died
mid-send is due again when its lease runs out (or at once on the next start), so every
committed message is sent at least once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

from gateway import codes
from gateway.carriers import Carrier
from gateway.clock import Clock
from gateway.config import Outbox as OutboxConfig
from gateway.errors import CarrierError
from gateway.metrics import Metrics
from gateway.model import LogEntry
from gateway.stores import OutboxItem, Store

log = logging.getLogger(__name__)


class OutboxSender:
    def __init__(self, store: Store, carrier: Carrier, clock: Clock, metrics: Metrics, config: OutboxConfig) -> None:
        self.store = store
        self.carrier = carrier
        self.clock = clock
        self.metrics = metrics
        self.config = config
        self._wake = asyncio.Event()
        self._stopping = False
        self.running = False

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Take no new batch; the batch in flight finishes."""
        self._stopping = True
        self._wake.set()

    async def start(self) -> None:
        """Make what a previous process left mid-send due at once; the loop may run after this."""
        await self.store.release_leases(self.clock.now())
        self.running = True

    async def run(self) -> None:
        if not self.running:
            await self.start()
        try:
            await self._loop()
        finally:
            self.running = False

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("outbox: batch failed; retrying after the poll interval")
                sent = 0
            if sent == 0 and not self._stopping:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)
                except asyncio.TimeoutError:
                    pass

    async def run_once(self) -> int:
        """Claim one batch of due messages and try each; the number tried."""
        now = self.clock.now()
        items = await self.store.claim_outbound(
            now, now + timedelta(seconds=self.config.sending_lease_seconds), self.config.batch_size)
        for item in items:
            await self.deliver(item)
        self.metrics.outbox_depth.set(await self.store.outbox_depth())
        return len(items)

    async def deliver(self, item: OutboxItem) -> None:
        now = self.clock.now()
        carrier = self.carrier.name
        if item.expires_at is not None and now >= item.expires_at:
            await self._give_up(item, "expired", None, "The message outlived its validity before it could be sent.",
                                codes.SEND_EXPIRED)
            self.metrics.outbound.labels(carrier, "expired").inc()
            return
        try:
            carrier_id = await self.carrier.send(item)
        except CarrierError as exc:
            if exc.retryable and item.attempts < self.config.max_attempts:
                delay = min(self.config.backoff_max_seconds,
                            self.config.backoff_base_seconds * 2 ** (item.attempts - 1)) * random.uniform(0.5, 1.0)
                await self.store.outbound_retry(item, now + timedelta(seconds=delay), exc.code, exc.message, now)
                self.metrics.outbound.labels(carrier, "retry").inc()
                log.warning("outbox %d to %s: %s (attempt %d, retry in %.1fs)", item.id, item.to_phone, exc.message,
                            item.attempts, delay)
            else:
                await self._give_up(item, "failed", exc.code, exc.message, codes.SEND_FAILED)
                self.metrics.outbound.labels(carrier, "failed").inc()
            return
        except Exception as exc:  # a carrier bug must not lose the message: retry it like a timeout
            log.exception("outbox %d: carrier %s raised", item.id, carrier)
            await self.store.outbound_retry(item, now + timedelta(seconds=self.config.backoff_base_seconds),
                                            None, repr(exc), now)
            self.metrics.outbound.labels(carrier, "error").inc()
            return
        await self.store.outbound_sent(item, carrier, carrier_id, self.clock.now())
        self.metrics.outbound.labels(carrier, "sent").inc()
        self.metrics.outbound_segments.labels(carrier).inc(item.segments)

    async def _give_up(self, item: OutboxItem, status: str, error_code: str | None, error: str, code: str) -> None:
        entry = LogEntry(code=code, at=self.clock.now(), site_id=item.site_id, contact_id=item.contact_id,
                         phone=item.to_phone, verification_id=item.verification_id,
                         comment=f"{error} (outbox {item.id}, {item.kind})",
                         details={"error_code": error_code, "attempts": item.attempts} if error_code else None)
        await self.store.outbound_failed(item, status, error_code, error, self.clock.now(), [entry])
        self.metrics.logged([entry])
        log.error("outbox %d to %s %s: %s", item.id, item.to_phone, status, error)
