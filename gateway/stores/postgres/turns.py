"""Turns: one daemon at a time decides on a phone number's text, whichever daemon the text reached.

A turn is one transaction on one pooled connection that first takes a transaction-level advisory lock
per key (``take_turn`` in sql/postgres/queries.sql); the text's reads and its commit then run in that
transaction, and its COMMIT (or ROLLBACK) ends the lock too. So a turn costs no round trip beyond what
the text's own commit took (its BEGIN goes with the lock, its COMMIT is the turn's), and one pooled
connection per text, never two. The transaction takes no transaction id before the commit writes, so it
holds up neither vacuum nor the readers that page by id (migrations/0012_paging.sql) while the text is
decided (argon2 checks included). When the decision's commit fails (a stale decision, a conflict) the
transaction is rolled back and begun again with the locks taken afresh, and the caller reads again.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
from collections.abc import Sequence
from typing import Any

import asyncpg

def turn_key(key: str) -> int:
    """``key`` as the second int4 of an advisory lock (the same on every daemon; a collision only makes two
    numbers wait for each other)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big", signed=True)


class Turn:
    """The held transaction of one task's turn on one connector."""

    def __init__(self, owner: Any, conn: asyncpg.Connection, lock_sql: str, keys: Sequence[str]) -> None:
        self.owner = owner
        self.task = asyncio.current_task()
        self.conn = conn
        # One simple-query round trip: BEGIN and every lock. The keys are ints this module computed, never
        # input, so they are written into the SQL (the extended protocol takes one statement per message).
        self._begin = "BEGIN; " + " ".join(lock_sql.replace("$1", str(turn_key(k))).rstrip(";") + ";"
                                          for k in sorted(set(keys)))

    async def begin(self) -> None:
        await self.conn.execute(self._begin)

    async def restart(self) -> None:
        """Undo what the turn wrote so far and take its locks again (another daemon may go in between)."""
        await self.conn.execute("ROLLBACK; " + self._begin)

    async def end(self, commit: bool) -> None:
        await self.conn.execute("COMMIT" if commit else "ROLLBACK")


CURRENT: contextvars.ContextVar[Turn | None] = contextvars.ContextVar("gateway_postgres_turn", default=None)


def held(owner: Any) -> Turn | None:
    """The turn the running task holds on ``owner`` (a connector), if any."""
    turn = CURRENT.get()
    return turn if turn is not None and turn.owner is owner and turn.task is asyncio.current_task() else None
