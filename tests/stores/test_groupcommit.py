"""SQLite's group commit (gateway/stores/groupcommit.py): writes queued together share one COMMIT, and a write
that fails is undone alone, whether it shared its batch or was the only one."""

from __future__ import annotations

import asyncio

import aiosqlite
import pytest

from gateway.clock import Clock
from gateway.stores.groupcommit import GroupCommit
from gateway.stores.sqlite.outage import WriteOutage


@pytest.fixture
async def group(tmp_path):
    path = tmp_path / "g.sqlite3"
    conn = await aiosqlite.connect(path, isolation_level=None)
    await conn.execute_fetchall("CREATE TABLE t (k TEXT PRIMARY KEY)")
    statements: list[str] = []
    await conn._execute(conn._conn.set_trace_callback, statements.append)  # on the connection's own thread
    yield GroupCommit(conn, WriteOutage(path, Clock())), conn, statements
    await conn.close()


def insert(*keys: str, fail: bool = False):
    def write(conn):
        for k in keys:
            conn.execute("INSERT INTO t VALUES (?)", (k,))
        if fail:
            raise ValueError(keys)
        return keys
    return write


async def rows(conn) -> list[str]:
    return [k for (k,) in await conn.execute_fetchall("SELECT k FROM t ORDER BY k")]


async def test_writes_queued_together_share_one_commit_and_a_failing_one_is_undone_alone(group):
    group, conn, statements = group
    results = await asyncio.gather(group.run(insert("a")), group.run(insert("b1", "b2", fail=True)),
                                   group.run(insert("c")), return_exceptions=True)
    assert results[0] == ("a",) and isinstance(results[1], ValueError) and results[2] == ("c",)
    assert await rows(conn) == ["a", "c"]
    assert statements.count("COMMIT") == 1 and statements.count("ROLLBACK TO one_write") == 1


async def test_a_write_alone_that_fails_commits_nothing_and_the_next_one_commits(group):
    group, conn, statements = group
    with pytest.raises(ValueError):
        await group.run(insert("x1", "x2", fail=True))
    assert await rows(conn) == [] and not conn._conn.in_transaction
    assert await group.run(insert("y")) == ("y",)
    assert await rows(conn) == ["y"]
    assert "SAVEPOINT one_write" not in statements  # each was a batch of one
    assert statements.count("ROLLBACK") == 1 and statements.count("COMMIT") == 1


async def test_a_write_alone_that_breaks_the_unique_key_raises_and_leaves_the_row_there(group):
    import sqlite3

    group, conn, _ = group
    await group.run(insert("k"))
    with pytest.raises(sqlite3.IntegrityError):
        await group.run(insert("k2", "k"))
    assert await rows(conn) == ["k"]
