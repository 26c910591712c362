"""Small steps the HTTP tests share: post an alarm, text the gateway, read what came out."""

from __future__ import annotations

import itertools

from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from gateway.web.appkeys import SENDER

_ids = itertools.count(1)


async def serve_on_loopback(app: web.Application) -> tuple[web.AppRunner, str]:
    """``app`` listening on a free port of 127.0.0.1 (a fake carrier or push service): its runner and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def post_alarm(client, auth, site_id: str, code: str = "BA", **fields) -> dict:
    resp = await client.post("/ext/v1/events", json={"site_id": site_id, "event_code": code, **fields}, headers=auth)
    assert resp.status in (200, 201), await resp.text()
    return (await resp.json())["data"]


async def text(client, from_phone: str, body: str, message_id: str | None = None) -> dict:
    payload = {"from": from_phone, "body": body, "message_id": message_id or f"SM{next(_ids):06d}"}
    resp = await client.post("/carriers/loopback/inbound", json=payload)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def deliver(client) -> int:
    """Run the sender until the outbox has nothing due; the number of messages tried."""
    total = 0
    for _ in range(20):
        tried = await client.app[SENDER].run_once()
        total += tried
        if not tried:
            return total
    raise AssertionError("outbox never drained")


async def outbox(client, to: str | None = None) -> list[dict]:
    resp = await client.get("/carriers/loopback/outbox", params={"to": to} if to else {})
    assert resp.status == 200
    return (await resp.json())["messages"]


async def event_log(client, auth, site_id: str | None = None, **params) -> list[dict]:
    query = {"site_id": site_id, **params} if site_id else params
    resp = await client.get("/ext/v1/event-log", params=query, headers=auth)
    assert resp.status == 200, await resp.text()
    return (await resp.json())["data"]


def codes(rows: list[dict]) -> list[str]:
    return [r["code"] for r in rows]


async def raw_http(client, method: str, path: str, headers: bytes = b"", body: bytes = b"",
                   content_type: bytes = b"application/x-www-form-urlencoded") -> tuple[int, bytes]:
    """One request written byte for byte to ``client``'s server (raw header bytes, bad UTF-8, anything an
    HTTP library would refuse to send): the status and the body."""
    import asyncio

    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: %s\r\n"
                 b"Content-Length: %d\r\n%s\r\n%s" % (method.encode(), path.encode(), content_type, len(body),
                                                      headers, body))
    try:
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), payload


def assert_locked_down_page(resp, html: str) -> None:
    """An HTML page whose URL holds a token: no framing, no sniffing, and no style but its own, by hash."""
    import base64
    import hashlib
    import re

    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp, csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff" and resp.headers["X-Frame-Options"] == "DENY"
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert styles
    for style in styles:
        assert f"'sha256-{base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()}'" in csp


async def scrape(client) -> dict[tuple[str, tuple], float]:
    """GET /metrics: each sample's value by (name, sorted label pairs)."""
    resp = await client.get("/metrics")
    assert resp.status == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(await resp.text()) for s in family.samples}
