"""Group commit for SQLite: concurrent write transactions share one COMMIT (and one fsync).

Each write is a plain function of a ``sqlite3.Connection`` (the SQLite connector's: a whole
transaction body, gateway/stores/sqlite/connector.py). Writes that arrive while a batch is
being committed wait for the next batch; one flusher commits batches one after another. A
batch runs as ``BEGIN IMMEDIATE``, each write inside its own SAVEPOINT (so one failing write
rolls back alone), then one ``COMMIT``, all in a single hop to the connection's thread.
Measured before this existed: one awaited hop per statement under a lock held ~1 ms per
inbound text and capped the gateway near 800 texts/s with the event loop half idle
(bench/inbound.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite

from gateway.stores.sqlite.outage import WriteOutage

T = TypeVar("T")
MAX_BATCH = 256


def _run_batch(conn: sqlite3.Connection,
               writes: list[Callable[[sqlite3.Connection], Any]]) -> tuple[list[tuple[bool, Any]], bool]:
    """Each write's (ok, result or exception), and whether the batch changed any row."""
    results: list[tuple[bool, Any]] = []
    changes = conn.total_changes
    conn.execute("BEGIN IMMEDIATE")
    try:
        for write in writes:
            conn.execute("SAVEPOINT one_write")
            try:
                results.append((True, write(conn)))
            except Exception as exc:  # this write alone is undone; the others still commit
                conn.execute("ROLLBACK TO one_write")
                results.append((False, exc))
            conn.execute("RELEASE one_write")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return results, conn.total_changes > changes


class GroupCommit:
    def __init__(self, conn: aiosqlite.Connection, outage: WriteOutage) -> None:
        self._conn = conn
        self._outage = outage
        self._queue: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None

    async def run(self, write: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``write`` in a committed transaction; its return value, or its exception."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((write, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        try:
            return await future
        except sqlite3.Error as exc:
            self._outage.check(exc)
            raise

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                # aiosqlite runs everything on one thread per connection; its _execute is the only way
                # to hand that thread a whole batch at once (its public methods take one statement).
                results, changed = await self._conn._execute(_run_batch, self._conn._conn, [w for w, _ in batch])
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
                if not isinstance(exc, Exception):
                    raise
                continue
            if changed:  # a batch that wrote nothing (a claim of nothing) proves nothing about the disk
                self._outage.succeeded()
            for (_, future), (ok, value) in zip(batch, results):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
