"""SQLite's ``read_few``: the hot path's small reads on the event loop's own thread, never waiting for the file."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from gateway.stores import open_store
from gateway.stores.connector import Op


@pytest.fixture
async def store(tmp_path, clock):
    store = open_store(f"sqlite:///{tmp_path}/gateway.sqlite3", clock=clock)
    await store.open()
    yield store
    await store.close()


async def test_a_small_read_runs_on_the_event_loops_thread(store, site):
    seen = []

    def body():
        seen.append(threading.get_ident())
        return (yield Op("get_site", {"id": site.id}))

    row = await store.db.read_few(body)
    assert row["name"] == site.name and seen == [threading.get_ident()]
    assert (await store.get_site(site.id)) == site  # the manager's hot-path reads take it


class BusyOnce:
    """The event loop's connection, meeting a busy file once (in WAL mode that takes WAL recovery by another
    process, which no test can time): what SQLite raises then, with its error code."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn, self.calls = conn, 0

    def execute(self, *args):
        self.calls += 1
        if self.calls == 1:
            exc = sqlite3.OperationalError("database is locked")
            exc.sqlite_errorcode, exc.sqlite_errorname = sqlite3.SQLITE_BUSY, "SQLITE_BUSY"
            raise exc
        return self.conn.execute(*args)

    def __getattr__(self, name):
        return getattr(self.conn, name)


async def test_the_loops_connection_never_waits_and_a_busy_file_hands_the_read_to_the_reader_thread(store, site):
    inline = store.db._inline
    assert inline.execute("PRAGMA busy_timeout").fetchone()[0] == 0  # never sleeps in SQLite's busy handler
    seen = []

    def body():
        seen.append(threading.get_ident())
        return (yield Op("get_site", {"id": site.id}))

    store.db._inline = busy = BusyOnce(inline)
    try:
        row = await store.db.read_few(body)
    finally:
        store.db._inline = inline
    assert row["name"] == site.name and busy.calls == 1
    assert seen[0] == threading.get_ident() and seen[1] != threading.get_ident()  # begun anew on the reader's thread


async def test_other_errors_are_not_retried(store, site):
    runs = []

    def body():
        runs.append(threading.get_ident())
        yield Op("get_site", {"id": site.id})
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        await store.db.read_few(body)
    assert len(runs) == 1
