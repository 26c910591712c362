"""Small steps the HTTP tests share: post an alarm, text the gateway, read what came out."""

from __future__ import annotations

import itertools

from prometheus_client.parser import text_string_to_metric_families

from gateway.web.appkeys import SENDER

_ids = itertools.count(1)


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


async def scrape(client) -> dict[tuple[str, tuple], float]:
    """GET /metrics: each sample's value by (name, sorted label pairs)."""
    resp = await client.get("/metrics")
    assert resp.status == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(await resp.text()) for s in family.samples}
