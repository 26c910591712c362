"""The PostgreSQL connector: asyncpg with a pool, every query in sql/postgres/queries.sql.

Any number of daemons may share the database (``exclusive`` is false): claims skip rows
another daemon holds, leases are only taken over once they run out, and ``gateway migrate``
holds an advisory lock. Columns have native types (timestamptz, bigint identities, boolean,
jsonb), so rows need no conversion; times are stored to the millisecond, as SQLite keeps them,
so both engines hold the same values and a copy between them is exact.

A server that does not answer (refused, reset, shutting down, too many connections) is
:class:`StoreUnavailable` (HTTP 503); the pool makes new connections by itself once it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from aiosql.types import SQLOperationType as Kind

from gateway.errors import ConfigurationError, StaleDecision, StoreError, StoreUnavailable
from gateway.stores.connector import Body, Connector, Conflict, Op, Script, T, load_queries, migration_sql
from gateway.stores.postgres.copying import TableCopy
from gateway.stores.postgres.listener import Listener
from gateway.stores.postgres.turns import CURRENT as CURRENT_TURN, Turn, held
from gateway.stores.postgres.values import jsonb, query_args

QUERIES = load_queries("postgres", "asyncpg")
CONNECT_SECONDS = 5.0  # a server that does not answer a new connection within this is down
ACQUIRE_SECONDS = 10.0  # every pooled connection busy this long: answer 503 rather than queue on
COMMAND_SECONDS = 30.0
RETRIES = 3  # a transaction chosen as a deadlock's victim (or a serialization failure) runs again
UNAVAILABLE = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
               asyncpg.OperatorInterventionError, asyncpg.TooManyConnectionsError, asyncpg.ConnectionDoesNotExistError)
RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


def _lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the server (or the way to it) went away, rather than a mistake of ours."""
    if isinstance(exc, UNAVAILABLE):
        return True
    # A connection lost mid-transaction fails again on the way out ("the underlying connection is closed"); a
    # server shutting down sends its error to an idle connection, which then refuses the next query ("cannot
    # switch to state ..."). Both are the server going away, not a misuse.
    if isinstance(exc, asyncpg.InterfaceError):
        return "connection is closed" in str(exc)
    return isinstance(exc, asyncpg.InternalClientError) and "cannot switch to state" in str(exc)


async def _init(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", schema="pg_catalog", encoder=jsonb, decoder=json.loads)


async def _keep(conn: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to the pool (asyncpg's default costs a round trip
    each time): the store leaves no session state behind, its advisory locks are transaction-level, and
    a connection that LISTENs must be one of its own, outside the pool."""


async def run(conn: asyncpg.Connection, op: Op | Script) -> Any:
    """One operation, answered as gateway/stores/connector.py says."""
    if isinstance(op, Script):
        await conn.execute(migration_sql("postgres", op.name))
        return None
    query = QUERIES[op.name]
    kind = query.operation
    if kind is Kind.INSERT_UPDATE_DELETE_MANY:
        await conn.executemany(query.sql, [query_args(query.params, p) for p in op.params])
        return None
    args = query_args(query.params, op.params)
    if kind is Kind.SELECT:
        return [dict(row) for row in await conn.fetch(query.sql, *args)]
    if kind is Kind.SELECT_ONE:
        row = await conn.fetchrow(query.sql, *args)
        return dict(row) if row is not None else None
    if kind is Kind.SELECT_VALUE or kind is Kind.INSERT_RETURNING:
        return await conn.fetchval(query.sql, *args)
    status = await conn.execute(query.sql, *args)  # "UPDATE 3"
    return int(status.rpartition(" ")[2]) if status[-1:].isdigit() else 0


async def drive(conn: asyncpg.Connection, body: Body[T]) -> T:
    """Run every operation ``body`` yields on ``conn``, handing each its result."""
    try:
        op = next(body)
        while True:
            op = body.send(await run(conn, op))
    except StopIteration as stop:
        return stop.value
    finally:
        body.close()


class PostgresConnector(TableCopy, Connector):
    """The ``postgres`` engine (``postgresql://user@host:5432/db``): many daemons per database."""

    engine = "postgres"
    exclusive = False

    def __init__(self, url: str, *, password: str | None = None, pool_size: int = 10) -> None:
        super().__init__(url)
        scheme, _, rest = url.partition("://")
        if not rest:
            raise ConfigurationError(f"database.url: {self.description!r} is not postgresql://user@host:port/dbname")
        self._dsn = "postgresql://" + rest  # postgres:// and postgresql+asyncpg:// name the same thing
        self._password = password
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        # No floor of connections kept open: after an outage asyncpg would restore it on its own, logging a
        # traceback for each failed try; connections are made when they are wanted. One is made now, so a
        # wrong password or database is said at start.
        pool = asyncpg.create_pool(
            self._dsn, password=self._password, min_size=0, max_size=self.pool_size, init=_init, reset=_keep,
            timeout=CONNECT_SECONDS, command_timeout=COMMAND_SECONDS, statement_cache_size=len(QUERIES) + 32)
        try:
            try:
                await pool
                async with pool.acquire():
                    pass
            except BaseException:
                pool.terminate()
                raise
        except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
            raise ConfigurationError(f"database.url: {self.description} refused the login: {exc} (the password "
                                     "comes from the URL, database.password_file or $PGPASSWORD)") from None
        except asyncpg.InvalidCatalogNameError as exc:
            raise ConfigurationError(f"database.url: {self.description}: {exc}") from None
        except UNAVAILABLE as exc:
            raise self._unavailable(exc) from None
        except (asyncpg.PostgresError, ValueError) as exc:
            raise StoreError(f"database.url: {self.description}: {exc}") from None
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), CONNECT_SECONDS)
            except UNAVAILABLE:  # a connection stuck on a server gone away: drop them all
                pool.terminate()

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        reason = str(exc) or type(exc).__name__
        return StoreUnavailable(f"PostgreSQL at {self.description} does not answer: {reason}")

    @contextlib.asynccontextmanager
    async def _connection(self, *, pooled: bool = False) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; within a turn (:meth:`turns`), the turn's own, for the task that took it."""
        pool = self._pool
        if pool is None:
            raise StoreUnavailable("the store is not open")
        turn = None if pooled else held(self)
        try:
            if turn is not None:
                yield turn.conn
                return
            async with asyncio.timeout(ACQUIRE_SECONDS):  # not acquire(timeout=): that costs a task each time
                conn = await pool.acquire()
            try:
                yield conn
            except BaseException as exc:
                if _lost(exc):  # never handed out again in whatever state the loss left it
                    with contextlib.suppress(asyncpg.InterfaceError):  # asyncpg let go of it already
                        conn.terminate()
                raise
            finally:
                await pool.release(conn)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise Conflict(str(exc)) from exc
        except (*UNAVAILABLE, asyncpg.InterfaceError, asyncpg.InternalClientError) as exc:
            if not _lost(exc):
                raise
            raise self._unavailable(exc) from exc

    async def read(self, body: Callable[..., Body[T]], *args: Any) -> T:
        async with self._connection() as conn:
            return await drive(conn, body(*args))

    async def transaction(self, body: Callable[..., Body[T]], *args: Any) -> T:
        turn = held(self)
        if turn is not None:  # inside the turn's transaction: it commits when the turn ends
            async with self._connection() as conn:
                try:
                    return await drive(conn, body(*args))
                except RETRYABLE as exc:  # its reads are void too: the holder reads and decides again
                    await self._restart(turn)
                    raise StaleDecision(f"the commit was refused ({type(exc).__name__}); deciding again") from exc
                except BaseException:
                    await self._restart(turn)
                    raise
        for attempt in range(RETRIES):
            try:
                async with self._connection() as conn, conn.transaction():
                    return await drive(conn, body(*args))
            except RETRYABLE:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def fetch(self, query: str, /, **params: Any) -> Any:
        async with self._connection() as conn:
            return await run(conn, Op(query, params))

    def offers(self, query: str) -> bool:
        return query in QUERIES

    async def execute(self, query: str, /, **params: Any) -> Any:
        async with self._connection() as conn:  # one statement: its own transaction
            return await run(conn, Op(query, params))

    @contextlib.asynccontextmanager
    async def turns(self, keys: Sequence[str]) -> AsyncIterator[None]:
        # A transaction-level advisory lock per key, whose transaction the holder's reads and commit join
        # (gateway/stores/postgres/turns.py). A connection that could not end it is closed, locks and all.
        async with self._connection(pooled=True) as conn:
            turn = Turn(self, conn, QUERIES["take_turn"].sql, keys)
            await turn.begin()
            token = CURRENT_TURN.set(turn)
            done = False
            try:
                yield
                done = True
            finally:
                CURRENT_TURN.reset(token)
                try:
                    await turn.end(commit=done)
                except BaseException as exc:
                    with contextlib.suppress(asyncpg.InterfaceError):  # a lost connection asyncpg let go of already
                        conn.terminate()
                    if done:  # the commit itself failed: the holder must not think its decision stands
                        if _lost(exc) or isinstance(exc, asyncpg.InterfaceError):
                            raise self._unavailable(exc) from exc
                        raise
                    # else the body's own error is on its way out; a ROLLBACK that failed only costs the connection

    async def _restart(self, turn: Turn) -> None:
        """Roll the turn back and take its locks again; a connection that cannot (the server went away mid-turn)
        is closed and the store reported unavailable, never an unexplained error."""
        try:
            await turn.restart()
        except BaseException as exc:
            with contextlib.suppress(asyncpg.InterfaceError):  # a lost connection asyncpg let go of already
                turn.conn.terminate()
            if _lost(exc) or isinstance(exc, asyncpg.InterfaceError):
                raise self._unavailable(exc) from exc
            raise

    async def listen(self, channel: str, heard: Callable[[str], None]) -> Callable[[], Awaitable[None]]:
        # A connection of its own, outside the pool, that reconnects by itself (gateway/stores/postgres/listener.py).
        listener = Listener(functools.partial(asyncpg.connect, self._dsn, password=self._password,
                                              timeout=CONNECT_SECONDS),
                            channel, heard, UNAVAILABLE, self.description)
        await listener.start()
        return listener.stop
