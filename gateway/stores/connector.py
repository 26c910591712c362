"""What an engine's connector does for the store: run named queries and transactions on one database.

The store (gateway/stores/manager/) writes each transaction once, as a generator that yields
:class:`Op` (a query name and its parameters) and receives each one's result; the connector
decides how to drive it (SQLite: synchronously inside its writer thread, one hop per group
commit; PostgreSQL: with awaits inside an asyncpg transaction). What a result is follows the
query's aiosql suffix: rows (none), one row or None (``^``), one value (``$``), the new id
(``<!``), a row count (``!``), nothing (``*!``, params a list). Rows are dicts whose times are
aware datetimes and whose JSON columns are decoded, whatever the engine stores.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, TypeVar

import aiosql
from aiosql.types import SQLOperationType

from gateway.config.secrets import masked_url as masked
from gateway.errors import StoreError

T = TypeVar("T")
SQL_DIR = Path(__file__).parent / "sql"


class Op(NamedTuple):
    """Run the named query of the engine's queries.sql with ``params`` (a list of them for ``*!``)."""

    name: str
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]] = {}


class Script(NamedTuple):
    """Run the engine's SQL for the migration ``name`` (gateway/stores/migrations.py)."""

    name: str


Body = Generator[Op | Script, Any, T]


# Queries an engine may offer where another has none: one operation standing for a store method's generic body
# (Connector.offers). Every other query is in every engine's queries.sql.
FAST_PATHS = frozenset({"commit_decision", "inbound_view"})


class Rows(dict):
    """The parameter of a query that hands many rows to a server-side function at once: named groups, each a row
    (a dict, or None) or a list of rows (or of plain values). The connector stores every row's values as it stores a query's own
    parameters (PostgreSQL: times to the millisecond, NUL as U+FFFD), so either way writes the same values."""


def single(op: Op) -> Body[Any]:
    """A body of one operation: its result."""
    return (yield op)


class Conflict(StoreError):
    """A write broke a unique, foreign-key or check constraint; nothing of its transaction stands."""


class Query(NamedTuple):
    sql: str
    operation: SQLOperationType
    params: tuple[str, ...]  # in the order of a positional driver's $1, $2 ...


def load_queries(engine: str, driver: str) -> dict[str, Query]:
    """The named queries of sql/<engine>/queries.sql as ``driver`` (an aiosql adapter name) wants them."""
    loaded = aiosql.from_path(SQL_DIR / engine / "queries.sql", driver, mandatory_parameters=False)
    order = getattr(loaded.driver_adapter, "var_sorted", {})
    names = set(loaded.available_queries)
    return {name: Query(fn.sql, fn.operation, tuple(order.get(name, ())))
            for name in names if not (name.endswith("_cursor") and name[:-len("_cursor")] in names)  # aiosql's own
            for fn in [getattr(loaded, name)]}


def migration_sql(engine: str, name: str) -> str:
    return (SQL_DIR / engine / "migrations" / f"{name}.sql").read_text(encoding="utf-8")


class Connector(abc.ABC):
    """One database of one engine: named queries, transactions, the daemon lock, table copies."""

    engine: ClassVar[str]
    # True when one daemon at a time serves the database (daemon_lock guarantees it): what a previous
    # process left leased may be taken back at start. False: many daemons share it; only expired leases are.
    exclusive: ClassVar[bool]

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def description(self) -> str:
        return masked(self.url)

    @abc.abstractmethod
    async def open(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def read(self, body: Callable[..., Body[T]], *args: Any) -> T:
        """Drive ``body(*args)``, reads only, against committed data."""

    @abc.abstractmethod
    async def transaction(self, body: Callable[..., Body[T]], *args: Any) -> T:
        """Drive ``body(*args)`` in one committed transaction: all of it stands, or none (its exception)."""

    async def fetch(self, query: str, /, **params: Any) -> Any:
        """One read query's result."""
        return await self.read(single, Op(query, params))

    async def read_few(self, body: Callable[..., Body[T]], *args: Any) -> T:
        """As :meth:`read`, for a body of a few indexed reads on the hot path of every text, which an engine may
        run on the caller's own thread (SQLite: no hand-off to its reader thread, see its connector)."""
        return await self.read(body, *args)

    async def fetch_few(self, query: str, /, **params: Any) -> Any:
        """As :meth:`fetch`, for one small indexed read (see :meth:`read_few`)."""
        return await self.read_few(single, Op(query, params))

    async def execute(self, query: str, /, **params: Any) -> Any:
        """One write query in its own transaction; its result."""
        return await self.transaction(single, Op(query, params))

    def offers(self, query: str) -> bool:
        """Whether this engine's queries.sql has ``query``, one of :data:`FAST_PATHS`: a store method runs that one
        operation (a server-side function, say) where the engine offers it, and its generic body elsewhere."""
        return False

    async def ping(self) -> bool:
        """True when the database answers a trivial query (and, where the engine can tell, takes a write);
        StoreUnavailable when it cannot."""
        return await self.fetch("ping") == 1

    def daemon_lock(self) -> contextlib.AbstractContextManager[None]:
        """Held by ``gateway serve`` for its life: refuses a second daemon where the engine allows one only."""
        return contextlib.nullcontext()

    def turns(self, keys: Sequence[str]) -> contextlib.AbstractAsyncContextManager[None]:
        """Held while one process decides on ``keys`` (a phone number): other processes on the same database
        wait for it; the holder's reads and transactions inside it may join one transaction that commits when
        it ends (PostgreSQL). Engines that serve one daemon need nothing (its in-process locks are enough)."""
        return contextlib.nullcontext()

    async def listen(self, channel: str, heard: Callable[[str], None]) -> Callable[[], Awaitable[None]]:
        """Call ``heard(payload)`` for each ``notify`` on ``channel`` that another process commits (a body
        yields ``Op("notify", {"channel": ..., "payload": ...})``); the coroutine function that stops it.
        Engines that serve one daemon have nobody to hear from: nothing is ever called."""

        async def stop() -> None:
            return None

        return stop

    async def server_version(self) -> str:
        """What the server says it is (connects, runs nothing else)."""
        return await self.fetch("server_version")

    # Whole tables, for ``gateway db copy``
    @abc.abstractmethod
    async def tables(self) -> list[str]:
        """Every table in the database (the store's schema)."""

    @abc.abstractmethod
    async def columns(self, table: str) -> list[str]:
        """The table's columns (empty when there is no such table)."""

    @abc.abstractmethod
    def dump(self, table: str, columns: Sequence[str], batch: int) -> AsyncIterator[list[tuple]]:
        """Every row of ``table``, ``batch`` rows at a time, values in the store's shape."""

    @abc.abstractmethod
    async def load(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        """Insert rows as ``dump`` gives them (ids kept)."""

    @abc.abstractmethod
    async def count(self, table: str) -> int: ...

    @abc.abstractmethod
    async def clear(self, tables: Sequence[str]) -> None:
        """Delete every row of ``tables`` (in one transaction)."""

    async def after_load(self, tables: Sequence[str]) -> None:
        """Make new ids follow the loaded ones (engines whose sequences do not follow by themselves)."""

