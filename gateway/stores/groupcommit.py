"""Group commit and group read for SQLite: concurrent calls on one connection share one hop to its thread.

Each call is a plain function of a ``sqlite3.Connection`` (the SQLite connector's: a whole
transaction or read body, gateway/stores/sqlite/connector.py). Calls that arrive while a batch
is on the connection's thread wait for the next batch; one flusher sends batches one after
another, so N concurrent texts cost one hand-off to the thread and one wake-up of the event
loop, not N. On one pinned core each hand-off is two context switches and a GIL hand-over
(bench/README.md: aiosqlite's ``_execute`` held 18% of the event loop's GIL time with a hop per read).

A write batch runs as ``BEGIN IMMEDIATE``, each write inside its own SAVEPOINT (so one failing
write rolls back alone; a batch of one write needs none), then one ``COMMIT`` (and one fsync). A
read batch runs each read as it would run alone (autocommit, so each sees what is committed when it runs). Measured before
group commit existed: one awaited hop per statement under a lock held ~1 ms per inbound text
and capped the gateway near 800 texts/s with the event loop half idle (bench/inbound.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import aiosqlite

if TYPE_CHECKING:  # the SQLite package imports this module: a name for annotations only
    from gateway.stores.sqlite.outage import WriteOutage

T = TypeVar("T")
MAX_BATCH = 256
Call = Callable[[sqlite3.Connection], Any]


def _run_each(conn: sqlite3.Connection, calls: list[Call]) -> list[tuple[bool, Any]]:
    """Each call's (ok, result or exception)."""
    results: list[tuple[bool, Any]] = []
    for call in calls:
        try:
            results.append((True, call(conn)))
        except Exception as exc:  # this call alone fails
            results.append((False, exc))
    return results


def _run_batch(conn: sqlite3.Connection, writes: list[Call]) -> tuple[list[tuple[bool, Any]], bool]:
    """Each write's (ok, result or exception), and whether the batch changed any row."""
    results: list[tuple[bool, Any]] = []
    changes = conn.total_changes
    # A write alone (a quiet moment's batch) fails alone without a savepoint: the whole transaction is rolled back
    # (two statements fewer per commit: -22k instructions for a HELP text at one in flight, bench/README.md).
    alone = len(writes) == 1
    conn.execute("BEGIN IMMEDIATE")
    try:
        for write in writes:
            if not alone:
                conn.execute("SAVEPOINT one_write")
            try:
                results.append((True, write(conn)))
            except Exception as exc:  # this write alone is undone; the others still commit
                if alone:
                    conn.execute("ROLLBACK")
                    return results + [(False, exc)], False
                conn.execute("ROLLBACK TO one_write")
                results.append((False, exc))
            if not alone:
                conn.execute("RELEASE one_write")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return results, conn.total_changes > changes


class Batches:
    """Calls on one aiosqlite connection, sent to its thread in batches."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._queue: list[tuple[Call, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None

    async def run(self, call: Callable[[sqlite3.Connection], T]) -> T:
        """``call``'s return value, or its exception."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((call, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _hop(self, calls: list[Call]) -> list[tuple[bool, Any]]:
        # aiosqlite runs everything on one thread per connection; its _execute is the only way
        # to hand that thread a whole batch at once (its public methods take one statement).
        return await self._conn._execute(_run_each, self._conn._conn, calls)

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                results = await self._hop([call for call, _ in batch])
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, future), (ok, value) in zip(batch, results):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)


class GroupCommit(Batches):
    """Writes: each batch one transaction, one COMMIT; a write that fails is rolled back alone."""

    def __init__(self, conn: aiosqlite.Connection, outage: WriteOutage) -> None:
        super().__init__(conn)
        self._outage = outage

    async def run(self, write: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``write`` in a committed transaction; its return value, or its exception."""
        try:
            return await super().run(write)
        except sqlite3.Error as exc:
            self._outage.check(exc)
            raise

    async def _hop(self, calls: list[Call]) -> list[tuple[bool, Any]]:
        results, changed = await self._conn._execute(_run_batch, self._conn._conn, calls)
        if changed:  # a batch that wrote nothing (a claim of nothing) proves nothing about the disk
            self._outage.succeeded()
        return results
