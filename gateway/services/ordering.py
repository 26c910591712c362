"""Keyed locks: one text per phone number at a time, in this daemon and across daemons.

The pipeline decides from a snapshot of the store and the decision is committed after. Two
texts from one number deciding from the same snapshot would each count only the first wrong
PIN, and parallel guesses would never reach the lockout. An in-process lock per number
serialises those decisions within a daemon; ``across`` (the store's ``turns``: on PostgreSQL a
transaction-level advisory lock per number, whose transaction the text's reads and commit join;
on SQLite nothing, its one daemon being the only writer) then serialises them between daemons.
The in-process lock is taken first, so a daemon asks the database for one turn per number at a
time, never one per waiting text. (Two numbers answering one verification are settled in the
store instead: the loser's commit is refused as stale and decided again.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence

Across = Callable[[Sequence[str]], contextlib.AbstractAsyncContextManager[None]]


def phone_key(phone: str) -> str:
    """The lock key of a phone number: its texts, and the alarms that pick its reply references, take it."""
    return f"phone:{phone}"


class KeyedLocks:
    def __init__(self, across: Across | None = None) -> None:
        self._across = across
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, keys: Iterable[str]) -> AsyncIterator[None]:
        """Hold the locks of ``keys``, taken in sorted order so two holders never wait on each other."""
        held: list[str] = []
        try:
            for key in sorted(set(keys)):
                self._users[key] = self._users.get(key, 0) + 1
                held.append(key)
                await self._locks.setdefault(key, asyncio.Lock()).acquire()
            if self._across is None:
                yield
            else:
                async with self._across(held):
                    yield
        finally:
            for key in reversed(held):
                lock = self._locks[key]
                if lock.locked():
                    lock.release()
                self._users[key] -= 1
                if not self._users[key]:  # nobody else waits: forget it, the map stays small
                    del self._users[key]
                    del self._locks[key]
