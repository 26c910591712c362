"""A webhook subscriber on 127.0.0.1 that checks every signature as the README says, and fixtures around it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from pathlib import Path

import msgspec
import pytest
from aiohttp import web

from gateway.config import Webhook
from gateway.web.appkeys import WEBHOOKS

SECRET = "whsec-all-0123456789"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: int = 300) -> dict:
    """The README's receiver recipe, word for word."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields["v1"]):
        raise ValueError("bad signature")
    if abs(now - timestamp) > tolerance:
        raise ValueError("timestamp too old")
    return json.loads(body)


class Receiver:
    """A subscriber that answers from a script (status codes, or "hang") and then 200."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.secrets: dict[str, str] = {"/all": SECRET}  # by path
        self.script: list[int | str] = []
        self.status = 200
        self.received: list[tuple[str, str, dict]] = []  # path, event id header, verified payload
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.base = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            payload = verify(self.secrets[request.path], request.headers["X-Gateway-Signature"], body,
                             self.clock.now().timestamp())
        except (KeyError, ValueError) as exc:
            return web.Response(status=400, text=str(exc))
        self.received.append((request.path, request.headers["X-Gateway-Event-Id"], payload))
        self.arrived.set()
        action = self.script.pop(0) if self.script else self.status
        if action == "hang":
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.release.wait(), 5)
            return web.Response(status=200)
        return web.Response(status=action)

    def payloads(self, path: str = "/all") -> list[dict]:
        return [p for at, _, p in self.received if at == path]

    def events(self, event_type: str, path: str = "/all") -> list[dict]:
        """The ``data`` of each ``event_type`` event delivered to ``path``, in order."""
        return [p["data"] for p in self.payloads(path) if p["event_type"] == event_type]


@pytest.fixture
async def receiver(aiohttp_server, clock):
    r = Receiver(clock)
    app = web.Application()
    app.router.add_post("/{name}", r.handle)
    server = await aiohttp_server(app, host="127.0.0.1")
    r.base = f"http://127.0.0.1:{server.port}"
    yield r
    r.release.set()


def subscribed(config, receiver: Receiver, tmp_path: Path):
    """``config`` with one subscriber, ``receiver``'s ``/all``, for every event type."""
    secret = tmp_path / "webhook.secret"
    secret.write_text(SECRET + "\n")
    hook = Webhook(url=f"{receiver.base}/all", secret_file=str(secret), timeout_seconds=0.3, max_age_seconds=3600)
    return msgspec.structs.replace(config, webhooks=[*config.webhooks, hook])


async def deliver_webhooks(client) -> int:
    """Run the webhook dispatcher until nothing is due; the number of deliveries tried."""
    total = 0
    for _ in range(20):
        tried = await client.app[WEBHOOKS].run_once()
        total += tried
        if not tried:
            return total
    raise AssertionError("webhook deliveries never drained")
