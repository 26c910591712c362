"""The end-to-end canary: every few minutes a text from one of the gateway's numbers to another, through the
outbox and the carrier, expected back as an inbound text in time.

It proves what no health check can: that the carrier takes the gateway's texts and that texts to the
gateway's numbers reach its inbound webhook (a wrong webhook URL, an unreachable ``public_url`` or
Twilio's error 11200 show up nowhere else). Its text carries a token (gateway/core/canary.py), so
gateway/services/inbound.py knows it again and hands it here before the pipeline: a canary never meets
the keyword table or the SMS interface. Round trips are observed in ``gateway_canary_round_trip_seconds``;
a canary not back within ``canary.timeout_seconds`` logs ``CANARYMISS``, counts in
``gateway_canary_missed_total`` and turns ``/readyz``'s detail to degraded until one comes back in time.
What is in flight lives in this process: a canary sent before a restart is not waited for after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway import codes
from gateway.clock import Clock, isoformat
from gateway.config import Canary as CanaryConfig
from gateway.core.canary import canary_text, new_token
from gateway.daemon.metrics import Metrics
from gateway.model import PRIORITY_VERIFICATION, Decision, LogEntry, OutboundMessage
from gateway.stores import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InFlight:
    token: str
    queued_at: datetime
    queued: float  # the clock's monotonic seconds


class CanaryWatch:
    def __init__(self, config: CanaryConfig, from_number: str, store: Store, clock: Clock, metrics: Metrics,
                 poll_seconds: float) -> None:
        self.config = config
        self.from_number = config.from_number or from_number
        self.to_number = config.to_number
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self.poll_seconds = poll_seconds
        self.wake: Callable[[], None] = lambda: None  # the sender's, once it exists: a canary was queued
        self.in_flight: dict[str, InFlight] = {}
        self.result = "waiting"  # waiting (none back or missed yet) | ok | missed: the last canary's fate
        self.last_round_trip: float | None = None
        self.last_missed_at: datetime | None = None
        self._next_at: float | None = None  # monotonic; None: send now

    @property
    def degraded(self) -> bool:
        return self.result == "missed"

    async def run_once(self) -> None:
        """Declare the canaries not back in time missed; send the next one when it is due."""
        now = self.clock.monotonic()
        for canary in [c for c in self.in_flight.values() if now - c.queued >= self.config.timeout_seconds]:
            await self._missed(canary)
        if self._next_at is None or now >= self._next_at:
            await self._send()
            self._next_at = now + self.config.every_minutes * 60

    async def _send(self) -> None:
        canary = InFlight(new_token(), self.clock.now(), self.clock.monotonic())
        await self.store.commit(Decision(outbound=[OutboundMessage(
            to_phone=self.to_number, from_phone=self.from_number, body=canary_text(canary.token), kind="canary",
            priority=PRIORITY_VERIFICATION)]))  # it travels as an alarm text does: its round trip is theirs
        self.in_flight[canary.token] = canary
        self.wake()
        log.info("canary %s queued: %s to %s, expected back within %d s", canary.token, self.from_number,
                 self.to_number, self.config.timeout_seconds)

    async def _missed(self, canary: InFlight) -> None:
        del self.in_flight[canary.token]
        self.result, self.last_missed_at = "missed", self.clock.now()
        self.metrics.canary_missed.inc()
        entry = LogEntry(code=codes.CANARY_MISSED, at=self.last_missed_at, phone=self.to_number,
                         comment=f"The canary text from {self.from_number} to {self.to_number} queued at "
                                 f"{canary.queued_at:%H:%M:%S} UTC did not come back within "
                                 f"{self.config.timeout_seconds} s: texts to the gateway may not reach it.",
                         details={"token": canary.token, "from": self.from_number, "to": self.to_number,
                                  "queued_at": isoformat(canary.queued_at),
                                  "timeout_seconds": self.config.timeout_seconds})
        log.error("canary %s MISSED: %s", canary.token, entry.comment)
        await self.store.log([entry])
        self.metrics.logged([entry])

    def came_back(self, token: str) -> bool:
        """A canary text arrived as an inbound text; False when it is none this process waits for."""
        canary = self.in_flight.pop(token, None)
        if canary is None:
            log.info("canary %s came back after its time or from before a restart: ignored", token)
            return False
        seconds = max(0.0, self.clock.monotonic() - canary.queued)
        self.metrics.canary_round_trip.observe(seconds)
        self.result, self.last_round_trip = "ok", seconds
        log.info("canary %s back after %.1f s", token, seconds)
        return True

    def state(self) -> dict[str, Any]:
        """The canary as ``/readyz`` shows it."""
        return {"result": self.result, "from": self.from_number, "to": self.to_number,
                "every_minutes": self.config.every_minutes, "timeout_seconds": self.config.timeout_seconds,
                "last_round_trip_seconds": self.last_round_trip,
                "last_missed_at": isoformat(self.last_missed_at) if self.last_missed_at else None}

    def describe(self) -> str:
        """One line for people (the console)."""
        if self.result == "missed":
            return (f"MISSED at {self.last_missed_at:%H:%M} UTC: the text to {self.to_number} did not come back "
                    f"within {self.config.timeout_seconds} s")
        if self.result == "ok":
            return f"back in {self.last_round_trip:.1f} s ({self.from_number} to {self.to_number})"
        return f"waiting for the first text from {self.from_number} to {self.to_number} to come back"

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("canary loop: pass failed; trying again")
            try:
                await asyncio.wait_for(stop.wait(), self.poll_seconds)
            except asyncio.TimeoutError:
                pass


def summary(config) -> str:
    """What ``gateway check`` says of the canary."""
    canary = config.canary
    if canary is None:
        return "canary: not configured"
    twilio = config.carrier.twilio if config.carrier.backend == "twilio" else None
    sender = ("a number of carrier.twilio.messaging_service_sid" if twilio and twilio.messaging_service_sid
              else canary.from_number or config.carrier.from_number)
    return (f"canary: every {canary.every_minutes} min a text from {sender} to {canary.to_number}, "
            f"expected back within {canary.timeout_seconds} s")
