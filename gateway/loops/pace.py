"""The sending pace: a token bucket of SMS segments per second for each sender number.

(The bucket also meters argon2 checks: gateway/auth/admission.py.)

Carriers meter a sender by segments, not messages (a long code takes about one segment a
second, a short code far more); texts sent faster only queue at the carrier, where the
gateway can no longer put an alarm before a notice. Each send reserves its segments and
waits its turn on the gateway's clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable

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
