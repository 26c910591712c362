"""The health gauges each scrape reads afresh: store and sender up, the outbox's oldest message by kind."""

from __future__ import annotations

from gateway.web.appkeys import SENDER
from tests.helpers import deliver, post_alarm, scrape


async def test_oldest_queued_message_age_by_kind_then_gone_once_sent(client, auth, site, contact, clock):
    await post_alarm(client, auth, site.id, "BA", event_id="evt_1")
    clock.advance(90)
    samples = await scrape(client)
    assert samples[("gateway_outbox_oldest_age_seconds", (("kind", "verification"),))] == 90.0
    assert samples[("gateway_outbox_depth", ())] == 1.0
    await deliver(client)
    samples = await scrape(client)
    assert not [key for key in samples if key[0] == "gateway_outbox_oldest_age_seconds"]
    assert samples[("gateway_outbox_depth", ())] == 0.0


async def test_store_and_sender_up_follow_readyz(client, store):
    await client.app[SENDER].start()  # the loops are the test's: start marks the sender running
    samples = await scrape(client)
    assert samples[("gateway_store_up", ())] == 1.0 and samples[("gateway_sender_up", ())] == 1.0
    assert (await client.get("/readyz")).status == 200
    await store.close()  # the store stops answering: the scrape still answers, and says so
    samples = await scrape(client)
    assert samples[("gateway_store_up", ())] == 0.0 and samples[("gateway_sender_up", ())] == 1.0
    resp = await client.get("/readyz")
    assert resp.status == 503 and (await resp.json())["checks"] == {"store": False, "sender": True}


async def test_without_a_canary_readyz_has_no_canary_and_metrics_no_canary_series(client):
    await client.app[SENDER].start()
    resp = await client.get("/readyz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ready", "detail": "ok", "checks": {"store": True, "sender": True}}
    assert not [key for key in await scrape(client) if key[0].startswith("gateway_canary_")]
