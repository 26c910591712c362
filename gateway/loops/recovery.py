"""Recovery from the carrier: the inbound texts the gateway missed, asked for and run late.

A carrier does not retry an inbound webhook the gateway failed to answer (Twilio logs error 11200
and keeps the message), so a reply sent while the daemon was stopped or its store unreachable would
be lost. On start, and whenever the store answers again after it did not, the gateway asks the
carrier for the texts to each of its own numbers since the newest one it recorded for that number
(capped by the carrier's ``recover_inbound_minutes``), and runs those it has not seen through the
normal pipeline, oldest first, marked late (gateway/services/inbound.py ``recover``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from gateway.carriers import Carrier
from gateway.clock import Clock
from gateway.daemon.metrics import Metrics
from gateway.daemon.readiness import store_answers
from gateway.errors import GatewayError
from gateway.model import InboundMessage
from gateway.services.inbound import InboundService
from gateway.stores import Store

log = logging.getLogger(__name__)
# Asked for from a little before the newest text recorded: the carrier's clock is not ours, and a webhook may
# be recorded while a pass reads. Texts seen already are skipped, so the overlap costs one list read.
OVERLAP = timedelta(minutes=5)
RETRY_SECONDS = 30.0  # a pass the carrier or the store failed is tried again after this


class InboundRecovery:
    def __init__(self, store: Store, carrier: Carrier, inbound: InboundService, clock: Clock, metrics: Metrics,
                 numbers: Sequence[str], wake: Callable[[], None], poll_seconds: float) -> None:
        self.store = store
        self.carrier = carrier
        self.inbound = inbound
        self.clock = clock
        self.metrics = metrics
        self.numbers = list(numbers)
        self.wake = wake  # the sender: late replies were queued
        self.poll_seconds = poll_seconds
        self.minutes = carrier.recover_inbound_minutes()
        self._due = True  # a pass is due: the first after start
        self._newest: dict[str, datetime | None] | None = None  # per number, read before any webhook came
        self._store_up = True
        self._last_up: datetime | None = None  # when the store last answered before it stopped answering
        self._retry_at: float | None = None

    async def start(self) -> None:
        """Read when each number's newest text came, before the listener opens (a webhook recorded while the
        first pass runs must not move its start past the texts missed while the daemon was down)."""
        if self.minutes:
            self._newest = await self._newest_recorded()

    async def _newest_recorded(self) -> dict[str, datetime | None]:
        return {n: await self.store.newest_inbound_at(self.carrier.name, n) for n in self.numbers}

    async def run_once(self) -> int:
        """Notice the store stopping and coming back; run a pass when one is due. The texts recovered."""
        if not self.minutes:
            return 0
        now = self.clock.now()
        if not await store_answers(self.store):
            if self._store_up:
                log.warning("recovery: the store does not answer; texts that come meanwhile will be asked of the "
                            "%s carrier when it answers again", self.carrier.name)
            self._store_up = False
            return 0
        if not self._store_up:
            self._store_up, self._due, self._newest, self._retry_at = True, True, None, None
            log.info("recovery: the store answers again; asking the %s carrier for what it missed", self.carrier.name)
        if not self._due:
            self._last_up = now
            return 0
        if self._retry_at is not None and self.clock.monotonic() < self._retry_at:
            return 0
        try:
            count = await self.recover()
        except Exception as exc:
            self._retry_at = self.clock.monotonic() + RETRY_SECONDS
            message = exc.message if isinstance(exc, GatewayError) else repr(exc)
            log.warning("recovery: the pass failed (%s); trying again in %.0f s", message, RETRY_SECONDS)
            return 0
        self._due, self._newest, self._retry_at, self._last_up = False, None, None, now
        return count

    async def recover(self) -> int:
        """One pass: ask the carrier, run what the gateway has not seen, oldest first. The texts run."""
        now = self.clock.now()
        floor = now - timedelta(minutes=self.minutes)
        newest = self._newest if self._newest is not None else await self._newest_recorded()
        found: dict[str, InboundMessage] = {}
        for number in self.numbers:
            since = floor
            if newest.get(number) is not None:
                since = max(floor, min(newest[number], self._last_up or newest[number]) - OVERLAP)
            for message in await self.carrier.missed_inbound(number, since):
                if message.received_at >= floor:  # whatever the carrier's filter does with the time of day
                    found.setdefault(message.carrier_message_id, message)
        seen = await self.store.seen_inbound(self.carrier.name, list(found))
        missed = sorted((m for sid, m in found.items() if sid not in seen),
                        key=lambda m: (m.received_at, m.carrier_message_id))
        for message in missed:
            try:
                await self.inbound.recover(message)
            except GatewayError as exc:  # this text cannot be taken (a sender that is no number): the others can
                log.warning("recovery: %s %s from %s not run: %s", self.carrier.name, message.carrier_message_id,
                            message.from_phone, exc.message)
        if missed:
            self.metrics.inbound_recovered.labels(self.carrier.name).inc(len(missed))
            self.wake()
            log.warning("recovery: %d text(s) the %s carrier took while the gateway could not were run late "
                        "(the oldest from %s UTC)", len(missed), self.carrier.name, f"{missed[0].received_at:%H:%M:%S}")
        else:
            log.info("recovery: the %s carrier holds no text the gateway missed", self.carrier.name)
        return len(missed)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("recovery loop: pass failed")
            try:
                await asyncio.wait_for(stop.wait(), self.poll_seconds)
            except asyncio.TimeoutError:
                pass
