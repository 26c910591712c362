"""The expiry loop: verifications nobody answered in time expire, sites whose test time ran out come off test."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from gateway.clock import Clock, isoformat
from gateway.core.keywords import KeywordTable
from gateway.daemon.metrics import Metrics
from gateway.errors import StoreUnavailable
from gateway.model import Decision, LogEntry, Notification, Verification
from gateway.stores import Store

log = logging.getLogger(__name__)
DEFAULT_EXPIRED_CODE = "SMSTIMEOUT"


class VerificationExpiry:
    def __init__(self, store: Store, table: Callable[[], KeywordTable], clock: Clock, metrics: Metrics,
                 poll_seconds: float, test_end_code: str) -> None:
        self.store = store
        self.table = table
        self.clock = clock
        self.metrics = metrics
        self.poll_seconds = poll_seconds
        self.test_end_code = test_end_code

    def _effects(self, verification: Verification) -> Decision:
        process = self.table().process(verification.process)
        code = process.expired_code if process else DEFAULT_EXPIRED_CODE
        now = self.clock.now()
        return Decision(
            log=[LogEntry(code=code, at=now, site_id=verification.site_id, verification_id=verification.id,
                          event_id=verification.event_id,
                          comment=f"No response before {verification.timeout_at:%H:%M:%S} UTC.")],
            notifications=[Notification(event_type="verification.expired", at=now, data={
                "verification_id": verification.id, "event_id": verification.event_id,
                "site_id": verification.site_id, "expired_at": isoformat(now)})])

    def _test_ended(self, site_id: str, name: str) -> list[LogEntry]:
        return [LogEntry(code=self.test_end_code, at=self.clock.now(), site_id=site_id,
                         comment=f"{name}: test time ended")]

    async def run_once(self) -> list[Verification]:
        """One pass: the verifications expired now (sites taken off test are logged, not returned)."""
        expired = await self.store.expire_verifications(self.clock.now(), self._effects)
        for verification in expired:
            self.metrics.verifications.labels("expired").inc()
            self.metrics.logged(self._effects(verification).log)
            log.info("verification %s expired", verification.id)
        for site_id in await self.store.end_site_tests(self.clock.now(), self._test_ended):
            self.metrics.event_log.labels(self.test_end_code).inc()
            log.info("site %s is off test: its test time ended", site_id)
        return expired

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except StoreUnavailable:
                pass  # the store logged it once; the next pass tries again
            except Exception:
                log.exception("expiry loop: pass failed")
            try:
                await asyncio.wait_for(stop.wait(), self.poll_seconds)
            except asyncio.TimeoutError:
                pass
