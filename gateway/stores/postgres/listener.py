"""LISTEN on a connection of its own, kept open: it comes back by itself after it is lost.

A pooled connection goes back to the pool, and its LISTEN with it, so a listener holds one
connection outside the pool. When that connection is lost (the server restarted, a network
cut, a failover) nothing is heard until it is back; so the listener reconnects with a growing
pause (at most ``RETRY_MAX_SECONDS``) and, once back, calls ``heard("")`` once: whatever was
announced meanwhile was missed, and the loop it wakes looks for itself. A connection that
dies silently (no reset reaches us) is found by a trivial query every ``CHECK_SECONDS``.

Network pauses are real time, not the gateway's clock: they wait for a server, not for a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

log = logging.getLogger(__name__)

CHECK_SECONDS = 5.0
RETRY_FIRST_SECONDS = 0.2
RETRY_MAX_SECONDS = 5.0


class Listener:
    """Hears ``channel`` for as long as it runs; ``lost`` names the errors that mean "not connected"."""

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], channel: str,
                 heard: Callable[[str], None], lost: tuple[type[BaseException], ...], where: str) -> None:
        self._connect = connect
        self.channel = channel
        self._heard = heard
        self._lost = (*lost, asyncpg.InterfaceError)
        self._where = where
        self._task: asyncio.Task | None = None
        self.reconnects = 0

    async def start(self) -> None:
        """Listen now if the server answers (up to one connection attempt), else keep trying in the background."""
        first = asyncio.Event()
        self._task = asyncio.create_task(self._run(first), name=f"listen-{self.channel}")
        await first.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, first: asyncio.Event) -> None:
        pause = RETRY_FIRST_SECONDS
        down_since_logged = False
        missed = False  # nobody listened for a while (a lost connection, a failed first try)
        while True:
            try:
                conn = await self._listening()
            except self._lost as exc:
                first.set()
                missed = True
                if not down_since_logged:
                    log.warning("LISTEN %s at %s: not connected (%s); retrying, the loops poll meanwhile",
                                self.channel, self._where, str(exc) or type(exc).__name__)
                    down_since_logged = True
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_MAX_SECONDS)
                continue
            if down_since_logged or self.reconnects:
                log.info("LISTEN %s at %s: listening again", self.channel, self._where)
            down_since_logged, pause = False, RETRY_FIRST_SECONDS
            first.set()
            try:
                if missed:
                    self._heard("")  # what was announced while nobody listened
                await self._watch(conn)
            finally:
                conn.terminate()
            self.reconnects += 1
            missed = True
            log.warning("LISTEN %s at %s: connection lost; reconnecting", self.channel, self._where)

    async def _listening(self) -> asyncpg.Connection:
        conn = await self._connect()
        try:
            await conn.add_listener(self.channel, lambda _conn, _pid, _channel, payload: self._heard(payload))
        except BaseException:
            conn.terminate()
            raise
        return conn

    async def _watch(self, conn: asyncpg.Connection) -> None:
        """Return once ``conn`` is lost: closed under us, or not answering a trivial query."""
        closed = asyncio.Event()
        conn.add_termination_listener(lambda _conn: closed.set())
        while not closed.is_set() and not conn.is_closed():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(closed.wait(), CHECK_SECONDS)
                return
            try:
                await conn.execute("SELECT 1", timeout=CHECK_SECONDS)
            except self._lost:
                return
