"""The SQLite connector: WAL mode through aiosqlite, every query in sql/sqlite/queries.sql.

Writes go through one connection as group commits (gateway/stores/groupcommit.py): each
transaction body runs synchronously inside the writer thread, so a whole transaction is one
hop and concurrent ones share one COMMIT. Reads use a second connection, which in WAL mode
never waits for a writer and only sees committed rows; a read body runs whole on its thread
too, and concurrent reads share one hop (group read). The few indexed reads every inbound text
makes (``read_few``) run on the event loop's own thread, on a third connection that never waits:
a hand-off costs more than such a read (two context switches and a GIL hand-over against tens of
microseconds, bench/README.md), and when SQLite says the file is busy (a rare moment of WAL
recovery, or another process holding it) the read is handed to the reader thread, which waits.

SQLite keeps times as UTC ISO 8601 text ("2026-01-15T10:30:00.000Z", sorting as it reads)
and JSON as text: parameters are turned into that (sqlite3 adapters, registered here for
datetime, dict and list), and rows back into datetimes (every column named ``at`` or ending
``_at``, ``_until``, ``_since``) and decoded JSON.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec
from aiosql.types import SQLOperationType as Kind

from gateway.clock import Clock, isoformat, parse_isoformat
from gateway.errors import ConfigurationError, StoreUnavailable
from gateway.stores.connector import Body, Connector, Conflict, Op, Script, T, load_queries, migration_sql
from gateway.stores.groupcommit import Batches, GroupCommit
from gateway.stores.sqlite import lock
from gateway.stores.sqlite.outage import WriteOutage
from gateway.stores.sqlite.positional import Getter, getter, numbered

QUERIES = load_queries("sqlite", "sqlite3")
_BOUND: dict[str, tuple[str, Getter]] = {}  # by query: its SQL with numbered parameters, and the tuple maker
for _name, _query in QUERIES.items():
    _sql, _names = numbered(_query.sql)
    _BOUND[_name] = (_sql, getter(_names))
JSON_COLUMNS = frozenset({"details", "data"})
APPLICATION_ID = 0x47415445  # "GATE": marks the file as this gateway's store (``PRAGMA application_id``)


def sqlite_path(url: str) -> Path:
    """``sqlite:///var/x.sqlite3`` is relative to the working directory, ``sqlite:////abs`` absolute."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix:
        raise ConfigurationError(f"database.url: {url!r} is not sqlite:///PATH")
    return Path(url[len(prefix):])


def _is_time(column: str) -> bool:
    return column == "at" or column.endswith(("_at", "_until", "_since"))


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


# Converted by sqlite3 itself as it binds a parameter of one of these exact types: no loop here over every one.
sqlite3.register_adapter(datetime, isoformat)
sqlite3.register_adapter(dict, _json)
sqlite3.register_adapter(list, _json)
# None and bool bind as they always did (NULL, 0/1), but with an adapter of their own: without one sqlite3 asks
# each such parameter for __adapt__/__conform__, formatting and dropping an AttributeError both times (~0.9 us a
# parameter; a text binds dozens of NULLs, bench/instructions.py).
sqlite3.register_adapter(type(None), {}.get)  # a C call answering None: a lambda costs a Python frame per NULL
sqlite3.register_adapter(bool, int)

Plan = tuple[tuple[str, ...], list[tuple[int, Callable[[Any], Any]]]]
_PLANS: dict[str, Plan] = {}  # by query: a query's columns never change


def _plan(columns: Sequence[str]) -> Plan:
    names = tuple(columns)
    return names, [(i, parse_isoformat if _is_time(n) else json.loads) for i, n in enumerate(names)
                   if _is_time(n) or n in JSON_COLUMNS]


def _values(row: tuple, plan: list[tuple[int, Callable[[Any], Any]]]) -> tuple:
    if not plan:
        return row
    values = list(row)
    for i, convert in plan:
        if values[i] is not None:
            values[i] = convert(values[i])
    return tuple(values)


def _rows(query: str, cursor: sqlite3.Cursor, rows: list[tuple]) -> list[dict[str, Any]]:
    plan = _PLANS.get(query)
    if plan is None:
        plan = _PLANS[query] = _plan([d[0] for d in cursor.description])
    names, converters = plan
    return [dict(zip(names, _values(row, converters))) for row in rows]


def _statements(script: str) -> list[str]:
    """A script's statements, split where SQLite's own parser says one is complete."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    rest = "\n".join(line for line in pending.splitlines() if not line.strip().startswith("--")).strip()
    if rest:
        raise ValueError(f"a statement without its ';': {rest[:60]!r}")
    return statements


def run(conn: sqlite3.Connection, op: Op | Script) -> Any:
    """One operation on a plain sqlite3 connection, answered as gateway/stores/connector.py says."""
    if isinstance(op, Script):
        for statement in _statements(migration_sql("sqlite", op.name)):
            conn.execute(statement)
        return None
    kind = QUERIES[op.name].operation
    sql, values = _BOUND[op.name]
    try:
        if kind is Kind.INSERT_UPDATE_DELETE_MANY:
            conn.executemany(sql, map(values, op.params))
            return None
        cursor = conn.execute(sql, values(op.params))
    except sqlite3.IntegrityError as exc:
        raise Conflict(str(exc)) from exc
    if kind is Kind.SELECT:
        return _rows(op.name, cursor, cursor.fetchall())
    if kind is Kind.SELECT_ONE:
        row = cursor.fetchone()
        return _rows(op.name, cursor, [row])[0] if row is not None else None
    if kind is Kind.SELECT_VALUE:
        row = cursor.fetchone()
        return row[0] if row is not None else None
    if kind is Kind.INSERT_RETURNING:
        return cursor.lastrowid
    return cursor.rowcount


def drive(conn: sqlite3.Connection, body: Body[T]) -> T:
    """Run every operation ``body`` yields, synchronously, handing each its result."""
    try:
        op = next(body)
        while True:
            op = body.send(run(conn, op))
    except StopIteration as stop:
        return stop.value
    finally:
        body.close()


class SQLiteConnector(Connector):
    """The ``sqlite`` engine (``sqlite:///PATH``): one daemon per file."""

    engine = "sqlite"
    exclusive = True

    def __init__(self, url: str, *, synchronous: str = "FULL", clock: Clock | None = None) -> None:
        super().__init__(url)
        self.path = sqlite_path(url)
        self._outage = WriteOutage(self.path, clock or Clock())
        self.synchronous = synchronous
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._group: GroupCommit | None = None
        self._reads: Batches | None = None
        self._inline: sqlite3.Connection | None = None  # the event loop's own: read_few

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        # Each fetched to the end: a pragma's statement left open would hold the file locked.
        await conn.execute_fetchall("PRAGMA busy_timeout = 5000")
        await conn.execute_fetchall("PRAGMA foreign_keys = ON")
        # FULL: a committed verification or outbox row survives a power cut, not only a crash.
        await conn.execute_fetchall(f"PRAGMA synchronous = {self.synchronous}")
        return conn

    def _connect_inline(self) -> sqlite3.Connection:
        # busy_timeout 0: a busy file raises at once (read_few then hands the read to the reader thread), so the
        # event loop never sleeps in SQLite's busy handler. check_same_thread: only the loop's thread uses it.
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 0").fetchall()
        conn.execute("PRAGMA foreign_keys = ON").fetchall()
        return conn

    async def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = await self._connect()
            await self._writer.execute_fetchall("PRAGMA journal_mode = WAL")
            self._reader = await self._connect()
            self._inline = self._connect_inline()
        except (OSError, sqlite3.Error) as exc:
            await self.close()
            reason = getattr(exc, "strerror", None) or exc
            raise StoreUnavailable(f"cannot open the SQLite database {self.path}: {reason}") from None
        self._group = GroupCommit(self._writer, self._outage)
        self._reads = Batches(self._reader)

    async def close(self) -> None:
        if self._inline is not None:
            self._inline.close()
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = self._group = self._reads = self._inline = None

    @property
    def _read(self) -> aiosqlite.Connection:
        assert self._reader is not None, "store is not open"
        return self._reader

    async def read(self, body: Callable[..., Body[T]], *args: Any) -> T:
        assert self._reads is not None, "store is not open"
        steps = body(*args)
        return await self._reads.run(lambda conn: drive(conn, steps))

    async def read_few(self, body: Callable[..., Body[T]], *args: Any) -> T:
        assert self._inline is not None, "store is not open"
        try:
            return drive(self._inline, body(*args))
        except sqlite3.OperationalError as exc:
            if (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
        return await self.read(body, *args)  # anew, on the thread that may wait for the file

    async def transaction(self, body: Callable[..., Body[T]], *args: Any) -> T:
        assert self._group is not None, "store is not open"
        return await self._group.run(lambda conn: drive(conn, body(*args)))

    async def fetch(self, query: str, /, **params: Any) -> Any:
        assert self._reads is not None, "store is not open"
        return await self._reads.run(lambda conn: run(conn, Op(query, params)))

    async def execute(self, query: str, /, **params: Any) -> Any:
        assert self._group is not None, "store is not open"
        return await self._group.run(lambda conn: run(conn, Op(query, params)))

    async def ping(self) -> bool:
        if await self.fetch("ping") != 1:
            return False
        if not self._outage.recently_written(1.0):  # under load the last second's writes tell; else write one
            # A one-page write (the file header's application id), which fails as soon as the file cannot grow.
            assert self._group is not None, "store is not open"
            await self._group.run(lambda conn: conn.execute(f"PRAGMA application_id = {APPLICATION_ID}"))
            self._outage.succeeded()
        return True

    def daemon_lock(self) -> contextlib.AbstractContextManager[None]:
        return lock.held(self.path.parent / "gateway.lock")

    # Whole tables (their names come from gateway/stores/migrations.py's fixed list, never from input)
    async def tables(self) -> list[str]:
        rows = await self._read.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        return [row[0] for row in rows]

    async def columns(self, table: str) -> list[str]:
        return [row[1] for row in await self._read.execute_fetchall(f"PRAGMA table_info({table})")]

    async def dump(self, table: str, columns: Sequence[str], batch: int) -> AsyncIterator[list[tuple]]:
        _, plan = _plan(columns)
        last = None
        while True:
            where = "" if last is None else " WHERE rowid > ?"
            rows = await self._read.execute_fetchall(
                f"SELECT rowid, {', '.join(columns)} FROM {table}{where} ORDER BY rowid LIMIT {batch}",
                () if last is None else (last,))
            if not rows:
                return
            last = rows[-1][0]
            yield [_values(tuple(row[1:]), plan) for row in rows]

    async def load(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        await self._group.run(lambda conn: conn.executemany(sql, rows))

    async def count(self, table: str) -> int:
        return (await self._read.execute_fetchall(f"SELECT count(*) FROM {table}"))[0][0]

    async def clear(self, tables: Sequence[str]) -> None:
        def write(conn: sqlite3.Connection) -> None:
            for table in reversed(tables):  # children first: foreign keys are on
                conn.execute(f"DELETE FROM {table}")

        await self._group.run(write)
