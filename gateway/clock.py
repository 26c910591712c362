"""The one source of time. Logic asks a clock; tests move a ManualClock instead of sleeping."""

from __future__ import annotations

import asyncio
import functools
import time
from datetime import datetime, timedelta, timezone


class Clock:
    """Wall-clock time in UTC and monotonic seconds."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock(Clock):
    """A clock that only moves when told to. ``sleep`` yields without waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 15, 10, 30, tzinfo=timezone.utc)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        step = timedelta(seconds=seconds, **delta)
        self._now += step
        self._mono += step.total_seconds()
        return self._now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


@functools.lru_cache(maxsize=1024)  # a transaction binds the same few moments over and over (4 us each, uncached)
def isoformat(moment: datetime) -> str:
    """UTC ISO 8601 with milliseconds and a Z, as the seeds show (``2025-01-15T10:30:00.000Z``)."""
    # datetime.isoformat is C code; strftime was 8% of the event loop's time under load (bench/inbound.py).
    # "...+00:00" cut to "...Z": replace(tzinfo=None) parsed its keyword on every call (8% of the SQLite writer's
    # instructions per text, bench/instructions.py).
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def parse_isoformat(text: str) -> datetime:
    """Reads what :func:`isoformat` writes (and any ISO 8601 with an offset)."""
    moment = datetime.fromisoformat(text)  # Python 3.11 reads a trailing Z as UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
