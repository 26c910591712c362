"""The expiry loop: verifications nobody answered in time are marked expired and logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from gateway.clock import Clock
from gateway.keywords import KeywordTable
from gateway.metrics import Metrics
from gateway.model import LogEntry, Verification
from gateway.stores import Store

log = logging.getLogger(__name__)
DEFAULT_EXPIRED_CODE = "SMSTIMEOUT"


class VerificationExpiry:
    def __init__(self, store: Store, table: Callable[[], KeywordTable], clock: Clock, metrics: Metrics,
                 poll_seconds: float) -> None:
        self.store = store
        self.table = table
        self.clock = clock
        self.metrics = metrics
        self.poll_seconds = poll_seconds

    def _log_for(self, verification: Verification) -> list[LogEntry]:
        process = self.table().process(verification.process)
        code = process.expired_code if process else DEFAULT_EXPIRED_CODE
        return [LogEntry(code=code, at=self.clock.now(), site_id=verification.site_id,
                         verification_id=verification.id, event_id=verification.event_id,
                         comment=f"No response before {verification.timeout_at:%H:%M:%S} UTC.")]

    async def run_once(self) -> list[Verification]:
        expired = await self.store.expire_verifications(self.clock.now(), self._log_for)
        for verification in expired:
            self.metrics.verifications.labels("expired").inc()
            self.metrics.logged(self._log_for(verification))
            log.info("verification %s expired", verification.id)
        return expired

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("expiry loop: pass failed")
            try:
                await asyncio.wait_for(stop.wait(), self.poll_seconds)
            except asyncio.TimeoutError:
                pass
