"""The daemon's listening socket: its guarded site."""

from __future__ import annotations

import asyncio

from aiohttp import web

from gateway.web.connections import ConnectionLimit


class GuardedSite(web.TCPSite):
    """aiohttp's TCP site, with every accepted connection going through a :class:`ConnectionLimit`."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, limit: ConnectionLimit) -> None:
        super().__init__(runner, host, port, reuse_address=True)
        self.limit = limit

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers with the runner; TCPSite.start would bind the plain Server
        self._server = await asyncio.get_running_loop().create_server(
            self.limit, self._host, self._port, backlog=self._backlog, reuse_address=self._reuse_address)
