"""Whole tables in and out of a PostgreSQL store, for ``gateway db copy`` (gateway/cli/db.py): their names come
from gateway/stores/migrations.py's fixed list, never from input."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from gateway.stores.postgres.values import param


class TableCopy:
    """The connector's table-copy methods (``_connection`` is the connector's: a connection of its pool)."""

    async def tables(self) -> list[str]:
        async with self._connection() as conn:
            rows = await conn.fetch("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
                                    "ORDER BY table_name")  # not the views of migrations/0016_one_trip.sql
        return [r["table_name"] for r in rows]

    async def _types(self, table: str) -> dict[str, str]:
        async with self._connection() as conn:
            rows = await conn.fetch("SELECT column_name, data_type FROM information_schema.columns "
                                    "WHERE table_schema = current_schema() AND table_name = $1 "
                                    "ORDER BY ordinal_position", table)
        return {r["column_name"]: r["data_type"] for r in rows}

    async def columns(self, table: str) -> list[str]:
        return list(await self._types(table))

    async def dump(self, table: str, columns: Sequence[str], batch: int) -> AsyncIterator[list[tuple]]:
        async with self._connection() as conn, conn.transaction():
            cursor = conn.cursor(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1", prefetch=batch)
            rows: list[tuple] = []
            async for record in cursor:
                rows.append(tuple(record))
                if len(rows) == batch:
                    yield rows
                    rows = []
            if rows:
                yield rows

    async def load(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        types = await self._types(table)
        flags = [types.get(c) == "boolean" for c in columns]  # SQLite hands booleans over as 0 and 1
        values = [[param(bool(v) if flag and v is not None else v) for v, flag in zip(row, flags)] for row in rows]
        sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
               f"VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})")
        async with self._connection() as conn:
            await conn.executemany(sql, values)

    async def count(self, table: str) -> int:
        async with self._connection() as conn:
            return await conn.fetchval(f"SELECT count(*) FROM {table}")

    async def clear(self, tables: Sequence[str]) -> None:
        async with self._connection() as conn:
            await conn.execute(f"TRUNCATE {', '.join(tables)}")

    async def after_load(self, tables: Sequence[str]) -> None:
        async with self._connection() as conn:
            for table in tables:
                identity = await conn.fetchval(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = $1 AND is_identity = 'YES'", table)
                if identity:  # the next id follows the largest copied one
                    await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{identity}'), "
                                       f"coalesce(max({identity}), 0) + 1, false) FROM {table}")
            # Copied rows are settled history to the readers that page by (tx, id) (migrations/0012_paging.sql),
            # whatever transaction loaded them or their source recorded.
            for table, column in (("event_log", "tx"), ("webhook_events", "tx"), ("loopback_messages", "tx"),
                                  ("webhook_cursor", "last_tx")):
                if table in tables:
                    await conn.execute(f"UPDATE {table} SET {column} = 0 WHERE {column} <> 0")
