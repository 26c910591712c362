"""The HTTP listener's bounds: header and body deadlines per request, and the connection cap.

Over 250 lines on purpose: everything that leans on aiohttp's RequestHandler internals stays in this one module,
so an aiohttp upgrade has one place to check (tests/test_connections.py fails when one breaks it).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from http import HTTPStatus

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from gateway.config.sections import Http
from gateway.errors import BadRequest, Overloaded, Refused, RequestTimeout, problem
from gateway.daemon.metrics import Metrics

log = logging.getLogger("gateway.http")
PROBE_SLOTS = 8  # connections past the cap that may only ask PROBE_PATHS, so health checks pass a flood
PROBE_PATHS = frozenset({"/healthz", "/readyz"})
LINGER_SECONDS = 1.0  # a connection told 408 for late headers stays half-open this long


def _canned(refusal: Refused) -> bytes:
    """The whole answer, as bytes, for a connection that never becomes an aiohttp request."""
    status, body = problem(refusal)
    raw = json.dumps(body).encode()
    fields = {"Content-Type": "application/json", "Content-Length": str(len(raw)), "Connection": "close",
              **(refusal.headers or {})}
    head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", *(f"{name}: {value}" for name, value in fields.items())]
    return "\r\n".join(head).encode() + b"\r\n\r\n" + raw


HEADERS_LATE = _canned(RequestTimeout("The request headers did not arrive in time."))
OVERLOADED = _canned(Overloaded())


class Throttled:
    """A warning logged at most once per ``seconds``; the next one says how many were held back."""

    def __init__(self, seconds: float = 10.0) -> None:
        self.seconds = seconds
        self._last: float | None = None
        self._held = 0

    def warning(self, now: float, message: str, *args: object) -> None:
        if self._last is not None and now - self._last < self.seconds:
            self._held += 1
            return
        if self._held:
            message, args = message + " (and %d more like it held back)", (*args, self._held)
        self._last, self._held = now, 0
        log.warning(message, *args)


class _Pool:
    """Connections by state: waiting for a request (oldest first, the ones to evict) or serving one."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._waiting: dict[GuardedRequestHandler, None] = {}
        self._busy: set[GuardedRequestHandler] = set()

    def __len__(self) -> int:
        return len(self._waiting) + len(self._busy)

    def add(self, conn: GuardedRequestHandler) -> None:
        self._waiting[conn] = None

    def waiting(self, conn: GuardedRequestHandler) -> None:
        if conn in self._busy:  # not when it was evicted or is gone
            self._busy.discard(conn)
            self._waiting[conn] = None

    def busy(self, conn: GuardedRequestHandler) -> None:
        if conn in self._waiting:
            del self._waiting[conn]
            self._busy.add(conn)

    def gone(self, conn: GuardedRequestHandler) -> None:
        self._waiting.pop(conn, None)
        self._busy.discard(conn)

    def evict_stalest(self) -> bool:
        """Close the connection that has waited longest for a request; False when every one is serving."""
        for conn in self._waiting:
            self.gone(conn)
            conn.evict()
            return True
        return False


class ConnectionLimit:
    """The listener's protocol factory. Under the cap a connection is admitted; at the cap the one that has
    waited longest for a request makes room; when all are serving, a connection gets one of the probe slots
    (health paths only) or, those full too, a canned 503 at accept, before anything is parsed."""

    def __init__(self, server: web.Server, http: Http, *, cap: int, metrics: Metrics) -> None:
        self.server, self.metrics = server, metrics
        self.header_timeout, self.body_timeout = http.header_timeout_seconds, http.body_timeout_seconds
        self.main, self.probes = _Pool(cap), _Pool(PROBE_SLOTS)
        self._refusals = Throttled()
        metrics.http_connections.set_function(lambda: len(self.main) + len(self.probes))

    def __call__(self) -> asyncio.Protocol:
        for pool in (self.main, self.probes):
            if len(pool) < pool.size or pool.evict_stalest():
                return GuardedRequestHandler(self, pool)
        self.closed("refused")
        self._refusals.warning(asyncio.get_running_loop().time(), "http: %d connections, all serving requests: "
                               "new ones refused (http.max_connections)", self.main.size)
        return _Refused()

    def closed(self, reason: str) -> None:
        self.metrics.http_connections_closed.labels(reason).inc()


class _Unparsed(web.Response):
    """The answer to a request aiohttp's parser refused: it never reaches the application, whose
    response hook drops the Server banner, so this drops it itself."""

    async def _prepare_headers(self) -> None:
        await super()._prepare_headers()
        self.headers.popall("Server", None)


class _Refused(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(OVERLOADED)  # type: ignore[attr-defined]
        transport.close()


class GuardedRequestHandler(RequestHandler):
    """aiohttp's HTTP/1 protocol with a deadline for each request's headers (from the connection's start,
    or from the first byte of a later request), then one for its body."""

    def __init__(self, limit: ConnectionLimit, pool: _Pool) -> None:
        # aiohttp 3.14 keeps the runner's handler arguments (keepalive_timeout, ...) in Server._kwargs.
        super().__init__(limit.server, loop=asyncio.get_running_loop(), **limit.server._kwargs)
        self._limit, self._pool = limit, pool
        self._timer: asyncio.TimerHandle | None = None
        self._body: StreamReader | None = None
        self._phase = "headers"  # then "body" while it arrives, "serving" until the response is written
        self._partial = False  # bytes of a request whose headers are not complete yet
        self._evicted = False
        pool.add(self)
        if pool is limit.probes:
            self._request_handler = self._probe_only

    async def _probe_only(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method in ("GET", "HEAD") and request.path in PROBE_PATHS:
            return await self._limit.server.request_handler(request)
        self._limit.closed("refused")
        response = web.Response(body=OVERLOADED.partition(b"\r\n\r\n")[2], status=503,
                                content_type="application/json", headers={"Retry-After": "1"})
        response.force_close()
        return response

    def _arm(self, seconds: float, late: Callable[[], None]) -> None:
        self._disarm()
        self._timer = self._loop.call_later(seconds, late)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self._evicted:  # made room for a later one in the same burst of accepts
            self.force_close()
            return
        self._arm(self._limit.header_timeout, self._headers_late)

    def data_received(self, data: bytes) -> None:
        queued = len(self._messages)
        super().data_received(data)
        if len(self._messages) > queued:  # headers complete (pipelined ones too)
            self._pool.busy(self)
            self._partial = False
            payload = self._messages[-1][1]
            if payload.is_eof():
                self._phase = "serving"
                self._disarm()
            else:
                self._phase, self._body = "body", payload
                self._arm(self._limit.body_timeout, self._body_late)
        elif self._phase == "body":
            if self._body is None or self._body.is_eof():
                self._body = None
                self._disarm()
                if self._request_in_progress:
                    self._phase = "serving"
                else:  # answered before the body was read, and aiohttp drained the rest
                    self._await_request()
        elif data:
            self._partial = True
            if self._phase == "headers" and self._timer is None:
                self._arm(self._limit.header_timeout, self._headers_late)

    def handle_error(self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if status >= 500 or not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        # Bad bytes in the request line or a header, refused by aiohttp's parser: the sender's fault. aiohttp
        # logs each at ERROR with a traceback, so anyone could fill the log; one DEBUG line and the error shape.
        log.debug("unparsable request from %s: %s", request.remote, str(exc.message).splitlines()[0])
        _, body = problem(BadRequest("The request could not be parsed as HTTP."))
        resp = _Unparsed(status=status, text=json.dumps(body), content_type="application/json")
        resp.force_close()
        return resp

    async def finish_response(self, request: web.BaseRequest, resp: web.StreamResponse,
                              start_time: float | None) -> tuple[web.StreamResponse, bool]:
        try:
            return await super().finish_response(request, resp, start_time)
        finally:
            if self._phase == "serving" and not self._messages:
                self._await_request()

    def _await_request(self) -> None:
        self._phase = "headers"
        self._pool.waiting(self)
        if self._partial:  # the next request began while this one was served
            self._arm(self._limit.header_timeout, self._headers_late)

    def _headers_late(self) -> None:
        self._timer = None
        if self._phase != "headers" or self.transport is None:
            return
        self._limit.closed("header_timeout")
        if not self._partial:
            self.force_close()
            return
        # Half-close after the 408 and close a moment later: closing at once, with the client still
        # sending, would answer it a reset that can overtake the 408.
        self.transport.write(HEADERS_LATE)
        self.transport.write_eof()
        self.close()  # aiohttp ignores what still arrives
        self._timer = self._loop.call_later(LINGER_SECONDS, self.force_close)

    def _body_late(self) -> None:
        self._timer, body, self._body = None, self._body, None
        if body is None or body.is_eof():
            return
        self._limit.closed("body_timeout")
        if self._request_in_progress:  # the handler reading it answers 408 (the middleware's error shape)
            body.set_exception(RequestTimeout())
            body.feed_eof()
            self.close()
        else:  # nobody reads it: aiohttp is only draining it after a response
            body.feed_eof()
            self.force_close()

    def evict(self) -> None:
        self._disarm()
        self._limit.closed("evicted")
        self._evicted = True
        if self.transport is not None:
            self.force_close()

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        self._disarm()
        self._pool.gone(self)
