"""The daemon's listening socket: its open-file budget, its guarded site, and accept errors logged sparingly."""

from __future__ import annotations

import asyncio
import logging
import resource

from aiohttp import web

from gateway.web.connections import PROBE_SLOTS, ConnectionLimit, Throttled

log = logging.getLogger("gateway.http")
FD_RESERVE = 256  # open files beyond the listener's: the store, log, carrier, webhook and SMTP connections
ACCEPT_ERROR = "socket.accept() out of system resource"  # asyncio's own words (selector_events.py)


def open_files_needed(max_connections: int) -> int:
    """The RLIMIT_NOFILE (systemd LimitNOFILE=) that ``http.max_connections`` needs."""
    return max_connections + PROBE_SLOTS + FD_RESERVE


def fit_open_files(max_connections: int) -> int:
    """The connection cap the process can keep: raises the soft open-file limit as far as the hard one
    allows, and lowers the cap (with a warning) when even that is short, so accept() never runs out."""
    need = open_files_needed(max_connections)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return max_connections
    raised = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if raised > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        soft = raised
    if soft >= need:
        return max_connections
    cap = max(1, soft - PROBE_SLOTS - FD_RESERVE)
    log.warning("http.max_connections %d lowered to %d: the open-file limit is %d, %d are needed "
                "(raise LimitNOFILE)", max_connections, cap, soft, need)
    return cap


class GuardedSite(web.TCPSite):
    """aiohttp's TCP site, with every accepted connection going through a :class:`ConnectionLimit`."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, limit: ConnectionLimit) -> None:
        super().__init__(runner, host, port, reuse_address=True)
        self.limit = limit

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers with the runner; TCPSite.start would bind the plain Server
        self._server = await asyncio.get_running_loop().create_server(
            self.limit, self._host, self._port, backlog=self._backlog, reuse_address=self._reuse_address)


def quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """asyncio logs an accept() that fails for want of files once per pending connection, every second,
    with a traceback (tens of MB a minute in a flood): log it once per 10 s instead."""
    throttle = Throttled()
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        if context.get("message") == ACCEPT_ERROR:
            throttle.warning(loop.time(), "http: cannot accept connections: %s (raise LimitNOFILE or lower "
                             "http.max_connections)", context.get("exception"))
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
