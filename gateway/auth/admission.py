"""Admission of argon2 checks: who may spend the one argon2 thread's time, and who goes first.

One check takes ~20-30 ms on the one argon2 thread (gateway/auth/hashes.py). Unbounded, a flood
of guessed PINs or secrets from strangers queued every real login behind it for as long as
the flood had lasted. So each check is admitted or shed at once, never queued without bound:

- every caller (a phone number, an API key id, an OAuth client id; for a credential nobody
  has, the remote address) has a token bucket of checks;
- strangers (an unknown number, key id or client) also draw on one overall bucket, which a
  known caller's checks drain too but never wait on;
- admitted checks wait in two bounded lanes, known callers first; a full lane sheds.

A shed check is answered as a refusal at once by the caller (gateway/services/inbound.py and friends).
Unflooded, every caller is admitted and does the same checks, so timing tells nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator

from gateway.clock import Clock
from gateway.config import CredentialChecks
from gateway.errors import ChecksShed
from gateway.daemon.metrics import Metrics
from gateway.loops.pace import TokenBucket

log = logging.getLogger(__name__)

MAX_CALLERS = 10_000  # buckets remembered; the one used longest ago goes first (it has had the most time to refill)
LOG_EVERY_SECONDS = 60.0  # at most one log line about shed checks this often; the metric counts each


class CallerBuckets:
    """A token bucket per caller, made full on first use; at most ``MAX_CALLERS`` remembered.

    Also what meters console sign-ins per remote address (gateway/auth/console_sessions.py).
    """

    def __init__(self, rate: float, capacity: float, clock: Clock) -> None:
        self.rate, self.capacity, self.clock = rate, capacity, clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def bucket(self, caller: str) -> TokenBucket:
        bucket = self._buckets.get(caller)
        if bucket is None:
            bucket = self._buckets[caller] = TokenBucket(self.rate, self.clock, capacity=self.capacity)
            if len(self._buckets) > MAX_CALLERS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(caller)
        return bucket


class CheckAdmission:
    """The buckets and lanes in front of the argon2 thread. One per application."""

    def __init__(self, limits: CredentialChecks, clock: Clock, metrics: Metrics | None = None) -> None:
        self.limits = limits
        self.clock = clock
        self.metrics = metrics
        self._overall = TokenBucket(limits.per_second, clock, capacity=limits.burst)
        self._callers = CallerBuckets(limits.per_caller_per_minute / 60, limits.per_caller_burst, clock)
        self._lanes: dict[bool, deque[tuple[asyncio.Future, int]]] = {True: deque(), False: deque()}
        self._waiting = {True: 0, False: 0}  # checks waiting in each lane (known: True)
        self._busy = False
        self._unlogged: Counter[str] = Counter()
        self._logged_at: float | None = None

    @contextlib.asynccontextmanager
    async def turn(self, kind: str, caller: str, *, known: bool, checks: int) -> AsyncIterator[None]:
        """Run ``checks`` argon2 checks for ``caller`` inside this block, after known callers' waiting ones.

        Raises :class:`ChecksShed` at once, before anything waits, when the caller's bucket, the
        overall bucket (strangers only) or the caller's lane is out of room.
        """
        self._admit(kind, caller, known, checks)
        await self._wait(known, checks)
        try:
            yield
        finally:
            self._next()

    def waiting(self, known: bool) -> int:
        """Checks admitted and waiting in a lane (known callers' lane: True)."""
        return self._waiting[known]

    def _admit(self, kind: str, caller: str, known: bool, checks: int) -> None:
        bucket = self._callers.bucket(caller)
        room = self.limits.queue if known else self.limits.stranger_queue
        if self._waiting[known] + checks > room:
            self._shed(kind, "queue", known, 1)
        if not bucket.take(checks):
            self._shed(kind, "caller", known, math.ceil(bucket.seconds_until(checks)))
        if not self._overall.take(checks, force=known):
            bucket.refund(checks)
            self._shed(kind, "overall", known, math.ceil(self._overall.seconds_until(checks)))

    def _shed(self, kind: str, reason: str, known: bool, retry_after: int) -> None:
        if self.metrics is not None:
            self.metrics.checks_shed.labels(kind, reason).inc()
        self._unlogged[kind] += 1
        now = self.clock.monotonic()
        if self._logged_at is None or now - self._logged_at >= LOG_EVERY_SECONDS:
            counts = ", ".join(f"{k} {n}" for k, n in sorted(self._unlogged.items()))
            log.warning("credential checks: %d shed since the last such line (%s), the latest %s, %s: too many "
                        "at once; known contacts, keys and clients go first", sum(self._unlogged.values()), counts,
                        kind, reason)
            self._unlogged.clear()
            self._logged_at = now
        raise ChecksShed(reason, known=known, retry_after=max(1, retry_after))

    async def _wait(self, known: bool, checks: int) -> None:
        if not self._busy:
            self._busy = True
            return
        entry = (asyncio.get_running_loop().create_future(), checks)
        self._lanes[known].append(entry)
        self._waiting[known] += checks
        try:
            await entry[0]
        except asyncio.CancelledError:
            if entry[0].cancelled():
                with contextlib.suppress(ValueError):  # _next may have dropped it already
                    self._lanes[known].remove(entry)
                    self._waiting[known] -= checks
            else:  # handed the turn as it was cancelled: hand it on
                self._next()
            raise

    def _next(self) -> None:
        """Hand the argon2 thread to the next waiting caller, known callers first."""
        for known in (True, False):
            lane = self._lanes[known]
            while lane:
                future, checks = lane.popleft()
                self._waiting[known] -= checks
                if not future.done():
                    future.set_result(None)
                    return
        self._busy = False
