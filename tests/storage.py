"""What a store engine holds, read from outside it, for the tests that must see storage itself.

Everything else goes through HTTP, the CLI or a Store method. These few questions have no public
answer: is a PIN anywhere in what is stored, which rows did a killed daemon leave. Each takes the
database URL, so every engine can answer them its own way (one class per engine, below).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

from gateway.config import Database

_TABLE = re.compile(r"[a-z_]+")


def rows(db_url: str, table: str) -> list[dict]:
    """Every row of ``table``, in the order they were written, as column -> value."""
    return _engine(db_url).rows(_table(table))


def count(db_url: str, table: str) -> int:
    """How many rows ``table`` holds."""
    return _engine(db_url).count(_table(table))


def dump_text(db_url: str) -> str:
    """Every stored row of every table, as text."""
    return _engine(db_url).dump_text()


def stored_bytes(db_url: str) -> bytes:
    """Every byte the engine keeps for this database, including what a dump would not show (free pages,
    pages not yet checkpointed): a secret must not be anywhere in it."""
    return _engine(db_url).stored_bytes()


class SQLiteFiles:
    """The SQLite file (and its write-ahead log), read with the standard library's driver."""

    def __init__(self, db_url: str) -> None:
        self.path = Database(url=db_url).sqlite_path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path)) as conn:
            conn.row_factory = sqlite3.Row
            yield conn

    def rows(self, table: str) -> list[dict]:
        with self._connect() as conn:
            return [dict(row) for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid")]

    def count(self, table: str) -> int:
        with self._connect() as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def dump_text(self) -> str:
        with self._connect() as conn:
            return "\n".join(conn.iterdump())

    def stored_bytes(self) -> bytes:
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


class PostgresTables:
    """The database's tables in the URL's schema, read with asyncpg on a thread of its own (a test's event
    loop may be running). The server's files are its own: what is stored is what its rows hold."""

    def __init__(self, db_url: str) -> None:
        self.url = db_url

    def _run(self, work) -> Any:
        async def run():
            import asyncpg

            conn = await asyncpg.connect(self.url, timeout=5)
            try:
                return await work(conn)
            finally:
                await conn.close()

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, run()).result()

    def rows(self, table: str) -> list[dict]:
        async def work(conn):
            columns = {r["column_name"] for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
                "AND table_schema = current_schema()", table)}
            order = "id" if "id" in columns else "ctid"  # tables without an id are written once per row
            return [dict(r) for r in await conn.fetch(f"SELECT * FROM {table} ORDER BY {order}")]

        return self._run(work)

    def count(self, table: str) -> int:
        return self._run(lambda conn: conn.fetchval(f"SELECT count(*) FROM {table}"))

    def dump_text(self) -> str:
        async def work(conn):
            tables = [r["tablename"] for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")]
            lines = []
            for t in tables:
                lines.extend(f"{t}: {dict(r)!r}" for r in await conn.fetch(f"SELECT * FROM {t}"))
            return "\n".join(lines)

        return self._run(work)

    def stored_bytes(self) -> bytes:
        return self.dump_text().encode()


# By Database.engine; each answers rows, count, dump_text and stored_bytes
ENGINES: dict[str, type[SQLiteFiles] | type[PostgresTables]] = {"sqlite": SQLiteFiles, "postgres": PostgresTables}


def _engine(db_url: str) -> SQLiteFiles | PostgresTables:
    engine = Database(url=db_url).engine
    if engine not in ENGINES:
        raise NotImplementedError(f"tests/storage.py cannot look inside a {engine} database yet: {db_url}")
    return ENGINES[engine](db_url)


def _table(name: str) -> str:
    if not _TABLE.fullmatch(name):
        raise ValueError(f"not a table name: {name!r}")
    return name
