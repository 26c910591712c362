"""The call and push methods' JSON paths, each status they document (test_openapi.py checks the shapes)."""

from __future__ import annotations

import re

from tests.fake_push import Browser
from tests.helpers import deliver, outbox

BIG = b"[" + b"0," * 40000 + b"0]"
JSON = {"Content-Type": "application/json"}


async def exercise_channels(call, client, auth, site, contact) -> None:
    """Every documented answer of the loopback calls path and the push paths, through ``call`` (a Recorder)."""
    resp = await client.post("/ext/v1/verifications", headers=auth, json={
        "site_id": site.id, "contacts": [contact.id], "method": "call", "message": "Alarm at Main Office."})
    assert resp.status == 200, await resp.text()
    await deliver(client)
    [placed] = [m for m in await outbox(client) if m["kind"] == "call"]
    calls = f"/carriers/loopback/calls/{placed['id']}"
    assert (await call("POST", calls, json={"digits": "9"}))[0] == 200
    await call("POST", calls, data=b"{", headers=JSON)
    await call("POST", calls, data=b"x", headers={"Content-Type": "text/plain"})
    await call("POST", calls, data=BIG, headers=JSON)
    await call("POST", calls, json={"digits": "12"})
    await call("POST", "/carriers/loopback/calls/999999", json={"digits": "1"})
    await call("POST", calls, json={"result": "busy"})
    assert (await call("POST", calls, json={"digits": "1"}))[0] == 409

    assert (await call("GET", "/push/vapid-public-key"))[0] == 200
    welcome = await client.post(f"/partner/v1/dealers/12345/sites/{site.id}/contacts/{contact.id}/welcome",
                                headers=await _partner(client))
    assert welcome.status == 202
    await deliver(client)
    token = re.search(r"/welcome/([A-Za-z0-9_-]+)", (await outbox(client, contact.phone))[-1]["body"]).group(1)
    path = f"/welcome/{token}/push"
    good = Browser("https://push.example.com/push/abc").subscription
    assert (await call("POST", path, json=good))[0] == 201
    await call("POST", path, json=good, headers={"Origin": "https://evil.example"})
    await call("POST", "/welcome/nope/push", json=good)
    await call("POST", path, data=b"{", headers=JSON)
    await call("POST", path, data=b"x", headers={"Content-Type": "text/plain"})
    await call("POST", path, data=BIG, headers=JSON)
    await call("POST", path, json={**good, "keys": {"p256dh": "AAAA", "auth": "AAAA"}})


async def _partner(client) -> dict[str, str]:
    from gateway.auth.oauth import create_client
    from gateway.web.appkeys import CLOCK, STORE

    client_id, secret = await create_client(client.app[STORE], "12345", None, client.app[CLOCK])
    resp = await client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                   "client_secret": secret})
    return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}
