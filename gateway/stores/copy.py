"""Copying a whole store into another database, of the same engine or not (``gateway db copy``).

Every table the migrations make is copied with its ids, parents first, in batches; both stores
are migrated first, so they have the same tables and columns. New ids in the target follow the
copied ones. Stop the daemons on the source first: rows written during the copy may be missed.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.errors import GatewayError
from gateway.stores.manager import Store
from gateway.stores.migrations import TABLES

BATCH = 1000
ALWAYS_THERE = frozenset({"webhook_cursor"})  # its one row is made by the migration itself


async def copy_store(source: Store, target: Store, *, force: bool = False,
                     progress: Callable[[str, int, int], None] = lambda table, done, total: None) -> dict[str, int]:
    """Copy every table of ``source`` into ``target`` (both open); the rows copied, by table.

    A target that holds anything is refused unless ``force``, which empties it first.
    ``progress(table, rows_done, rows_in_table)`` is called after each batch."""
    if not force:
        held = {t: n for t in TABLES if t not in ALWAYS_THERE and (n := await target.db.count(t))}
        if held:
            listed = ", ".join(f"{t} ({n})" for t, n in list(held.items())[:5])
            raise GatewayError(f"{target.description} already holds data: {listed}; --force replaces it")
    await target.db.clear(TABLES)
    copied = {}
    for table in TABLES:
        total, done = await source.db.count(table), 0
        columns = await source.db.columns(table)
        progress(table, 0, total)
        async for rows in source.db.dump(table, columns, BATCH):
            await target.db.load(table, columns, rows)
            done += len(rows)
            progress(table, done, total)
        copied[table] = done
    await target.db.after_load(TABLES)
    return copied
