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
from collections.abc import Callable, Iterable, Sequence

Across = Callable[[Sequence[str]], contextlib.AbstractAsyncContextManager[None]]


def phone_key(phone: str) -> str:
    """The lock key of a phone number: its texts, and the alarms that pick its reply references, take it."""
    return f"phone:{phone}"


class KeyedLocks:
    def __init__(self, across: Across | None = None) -> None:
        self._across = across
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    def hold(self, keys: Iterable[str]) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold the locks of ``keys``, taken in sorted order so two holders never wait on each other."""
        return _Hold(self, sorted(set(keys)))

    def _release(self, held: list[str], acquired: int) -> None:
        """Let go of ``held`` (counted as users), of which the first ``acquired`` were taken: a holder cancelled
        while it waited must not release the lock another holder has."""
        for i in range(len(held) - 1, -1, -1):
            key = held[i]
            if i < acquired:
                self._locks[key].release()
            self._users[key] -= 1
            if not self._users[key]:  # nobody else waits: forget it, the map stays small
                del self._users[key]
                del self._locks[key]


class _Hold:
    """One holding of :meth:`KeyedLocks.hold`: a plain class, as every text takes one (an
    ``asynccontextmanager`` costs a generator and its frames each time: 5% of the event loop's time)."""

    __slots__ = ("_owner", "_keys", "_held", "_acquired", "_across")

    def __init__(self, owner: KeyedLocks, keys: list[str]) -> None:
        self._owner, self._keys = owner, keys
        self._held: list[str] = []
        self._acquired = 0
        self._across: contextlib.AbstractAsyncContextManager[None] | None = None

    async def __aenter__(self) -> None:
        owner, held = self._owner, self._held
        try:
            for key in self._keys:
                owner._users[key] = owner._users.get(key, 0) + 1
                held.append(key)
                lock = owner._locks.get(key)
                if lock is None:
                    lock = owner._locks[key] = asyncio.Lock()
                await lock.acquire()
                self._acquired += 1
            if owner._across is not None:
                across = owner._across(held)
                await across.__aenter__()
                self._across = across
        except BaseException:
            owner._release(held, self._acquired)
            raise

    async def __aexit__(self, kind, exc, tb) -> bool:
        try:
            if self._across is not None:
                return bool(await self._across.__aexit__(kind, exc, tb))
            return False
        finally:
            self._owner._release(self._held, self._acquired)
