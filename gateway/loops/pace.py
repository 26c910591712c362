"""The sending pace: a token bucket of SMS segments per second for each sender number.

(The bucket also meters argon2 checks: gateway/auth/admission.py.)

Carriers meter a sender by segments, not messages (a long code takes about one segment a
second, a short code far more); texts sent faster only queue at the carrier, where the
gateway can no longer put an alarm before a notice. Each send reserves its segments and
waits its turn on the gateway's clock, so tests move time instead of sleeping. Where several
daemons share a PostgreSQL store, the bucket lives in the store (:class:`SharedPace`): the
carrier meters the number, not the daemon.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from gateway.clock import Clock

BURST_SECONDS = 0.1  # a bucket holds this much of its rate (at least one segment): catch-up, not bursts


class TokenBucket:
    """``rate`` segments per second, at most ``capacity`` saved up.

    A message larger than the bucket goes once the bucket is full and leaves it in debt,
    which later messages wait out: over any stretch of time no more than
    ``capacity + rate * seconds`` segments (plus one message's overshoot) go out.
    """

    def __init__(self, rate: float, clock: Clock, capacity: float | None = None) -> None:
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate * BURST_SECONDS)
        self.clock = clock
        self._tokens = self.capacity
        self._updated = clock.monotonic()

    def _refill(self) -> None:
        now = self.clock.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def reserve(self, segments: int) -> float:
        """Take ``segments`` now; the seconds to wait before sending them."""
        self._refill()
        need = min(segments, self.capacity)
        wait = max(0.0, (need - self._tokens) / self.rate)
        self._tokens -= segments
        return wait

    def refund(self, segments: int) -> None:
        """Give back a reservation that was not used."""
        self._refill()
        self._tokens = min(self.capacity, self._tokens + segments)

    def take(self, amount: float, *, force: bool = False) -> bool:
        """Take ``amount`` if the bucket holds it now; otherwise take nothing and say False.

        ``force`` takes it anyway and says True, leaving the bucket at most one bucketful in debt.
        """
        self._refill()
        if self._tokens >= amount:
            self._tokens -= amount
            return True
        if force:
            self._tokens = max(-self.capacity, self._tokens - amount)
        return force

    def seconds_until(self, amount: float) -> float:
        """How long until the bucket holds ``amount`` (0: it does now)."""
        self._refill()
        return max(0.0, (min(amount, self.capacity) - self._tokens) / self.rate)


class SenderLimits:
    """One bucket per sender number, at the rate ``rate_for(sender)`` gives (None: no limit)."""

    def __init__(self, clock: Clock, rate_for: Callable[[str], float | None]) -> None:
        self.clock = clock
        self.rate_for = rate_for
        self._buckets: dict[str, TokenBucket | None] = {}

    def bucket(self, sender: str) -> TokenBucket | None:
        if sender not in self._buckets:
            rate = self.rate_for(sender)
            self._buckets[sender] = TokenBucket(rate, self.clock) if rate else None
        return self._buckets[sender]

    def reserve(self, sender: str, segments: int) -> float:
        """Seconds until ``segments`` may go from ``sender`` (0 for an unlimited sender)."""
        bucket = self.bucket(sender)
        return bucket.reserve(segments) if bucket else 0.0

    def refund(self, sender: str, segments: int) -> None:
        bucket = self.bucket(sender)
        if bucket:
            bucket.refund(segments)


class LocalPace:
    """The sender's pace held in this process: right where one daemon serves the store (SQLite)."""

    def __init__(self, clock: Clock, rate_for: Callable[[str], float | None]) -> None:
        self.limits = SenderLimits(clock, rate_for)

    async def reserve(self, sender: str, segments: int) -> float:
        return self.limits.reserve(sender, segments)

    async def refund(self, sender: str, segments: int) -> None:
        self.limits.refund(sender, segments)


class SharedPace:
    """The same token bucket per sender, held in the store so every daemon draws on one budget.

    The bucket is one time per sender: when it is full again (the "theoretical arrival time" of
    GCRA). A reservation moves it forward by the segments' cost in one statement, so daemons
    reserving at once get turns one after another, never the same one. The daemons' clocks
    must agree (NTP), as the outbox leases already ask.
    """

    def __init__(self, store: PaceStore, clock: Clock, rate_for: Callable[[str], float | None]) -> None:
        self.store = store
        self.clock = clock
        self.rate_for = rate_for

    async def reserve(self, sender: str, segments: int) -> float:
        """Seconds until ``segments`` may go from ``sender`` (0 for an unlimited sender)."""
        rate = self.rate_for(sender)
        if not rate:
            return 0.0
        capacity = max(1.0, rate * BURST_SECONDS)
        cost = segments / rate
        now = self.clock.now()
        full_at = await self.store.reserve_pace(sender, cost, now)
        # Turn: when the bucket (full at full_at - cost before us) holds this message's segments again.
        turn = (full_at - now).total_seconds() - cost - (capacity - min(segments, capacity)) / rate
        return max(0.0, turn)

    async def refund(self, sender: str, segments: int) -> None:
        rate = self.rate_for(sender)
        if rate:
            await self.store.refund_pace(sender, segments / rate, self.clock.now())


class PaceStore(Protocol):
    async def reserve_pace(self, sender: str, cost_seconds: float, now: datetime) -> datetime: ...

    async def refund_pace(self, sender: str, cost_seconds: float, now: datetime) -> None: ...


def sender_pace(store: PaceStore, shared: bool, clock: Clock,
                rate_for: Callable[[str], float | None]) -> LocalPace | SharedPace:
    """The pace for a store that other daemons share (held in it) or that this daemon has alone (in memory)."""
    return SharedPace(store, clock, rate_for) if shared else LocalPace(clock, rate_for)
