"""Webhooks out: a real receiver on 127.0.0.1 that verifies each signature as the README says."""

from __future__ import annotations

import asyncio
import json

import msgspec
import pytest

from gateway.auth.apikeys import create_key
from gateway.config import ConfigFileError, Webhook, parse_config
from gateway.errors import ConfigurationError
from gateway.daemon.metrics import Metrics
from gateway.model import Contact, Site
from gateway.web.app import create_app
from gateway.web.appkeys import EXPIRY, METRICS, STORE, WEBHOOKS
from gateway.loops.webhooks import WebhookDispatcher
from tests.conftest import PHONE, free_port
from tests.helpers import codes, event_log, post_alarm, text
from tests.webhook_receiver import SECRET, subscribed

ENV_SECRET = "whsec-expired-9876543210"


@pytest.fixture
def config(config, receiver, tmp_path, monkeypatch):
    """Two subscribers: ``/all`` (secret in a file) and ``/expired`` (secret in the environment, one event type)."""
    monkeypatch.setenv("GW_TEST_WEBHOOK_SECRET", ENV_SECRET)
    receiver.secrets["/expired"] = ENV_SECRET
    config = subscribed(config, receiver, tmp_path)
    expired = Webhook(url=f"{receiver.base}/expired", secret_env="GW_TEST_WEBHOOK_SECRET",
                      events=["verification.expired"], timeout_seconds=0.3, max_age_seconds=3600)
    return msgspec.structs.replace(config, webhooks=[*config.webhooks, expired])


async def responded(client, auth, site) -> dict:
    """An alarm answered YES: one verification.responded queued."""
    data = await post_alarm(client, auth, site.id, "BA", event_id="evt_1")
    assert "CONFIRMED" in (await text(client, PHONE, "YES"))["replies"][0]
    return data["verifications"][0]


def outcomes(app, subscriber: str) -> dict[str, float]:
    metric = app[METRICS].webhook_deliveries
    return {o: metric.labels(subscriber, o)._value.get() for o in ("delivered", "retry", "failed")}


async def test_verification_responded_arrives_with_the_seed_fields(client, auth, site, contact, receiver):
    verification = await responded(client, auth, site)
    assert await client.app[WEBHOOKS].run_once() == 1
    assert receiver.payloads() == [{"event_type": "verification.responded", "data": {
        "verification_id": verification["verification_id"], "event_id": "evt_1", "site_id": site.id,
        "contact_id": contact.id, "response": "confirmed", "responded_at": "2026-01-15T15:30:00.000Z"}}]
    assert receiver.payloads("/expired") == []
    assert await client.app[WEBHOOKS].run_once() == 0
    assert outcomes(client.app, f"{receiver.base}/all") == {"delivered": 1, "retry": 0, "failed": 0}
    metrics = await (await client.get("/metrics")).text()
    assert f'gateway_webhook_deliveries_total{{outcome="delivered",subscriber="{receiver.base}/all"}} 1.0' in metrics


async def test_an_answer_under_duress_stands_and_its_webhook_says_duress(client, auth, site, contact, receiver,
                                                                         store):
    """A cancel forced with the duress PIN looks like any cancel to the phone; the station must not stand down."""
    from gateway.auth.hashes import hash_secret

    await store.set_pin(contact.id, hash_secret("7391"), None)
    await store.set_duress_pin(contact.id, hash_secret("8264"))
    await post_alarm(client, auth, site.id, "BA", event_id="evt_1")
    assert "CANCELLED" in (await text(client, PHONE, "NO 8264"))["replies"][0]
    assert await client.app[WEBHOOKS].run_once() == 1
    [payload] = receiver.payloads()
    assert payload["data"]["response"] == "cancelled" and payload["data"]["duress"] is True


async def test_expiry_reaches_every_subscriber_that_wants_it(client, auth, site, contact, receiver, clock):
    data = await post_alarm(client, auth, site.id, "BA", event_id="evt_2")
    clock.advance(300)
    await client.app[EXPIRY].run_once()
    assert await client.app[WEBHOOKS].run_once() == 2
    expected = {"event_type": "verification.expired", "data": {
        "verification_id": data["verifications"][0]["verification_id"], "event_id": "evt_2", "site_id": site.id,
        "expired_at": "2026-01-15T15:35:00.000Z"}}
    assert receiver.payloads() == receiver.payloads("/expired") == [expected]


async def test_failed_attempts_retry_with_backoff_until_accepted(client, auth, site, contact, receiver, clock):
    await responded(client, auth, site)
    receiver.script = [500, "hang"]
    dispatcher = client.app[WEBHOOKS]
    assert await dispatcher.run_once() == 1  # 500
    clock.advance(4)
    assert await dispatcher.run_once() == 0  # the first retry waits 5-10 s (10 s, jittered)
    clock.advance(6)
    assert await dispatcher.run_once() == 1  # no answer within 0.3 s
    clock.advance(9)
    assert await dispatcher.run_once() == 0  # the second waits 10-20 s
    clock.advance(11)
    assert await dispatcher.run_once() == 1  # 200
    clock.advance(3600)
    assert await dispatcher.run_once() == 0
    assert len(receiver.received) == 3
    assert len({(event_id, json.dumps(p)) for _, event_id, p in receiver.received}) == 1  # the same event each time
    assert outcomes(client.app, f"{receiver.base}/all") == {"delivered": 1, "retry": 2, "failed": 0}


async def test_given_up_after_max_age_and_logged(client, auth, site, contact, receiver, clock):
    verification = await responded(client, auth, site)
    receiver.status = 503
    dispatcher = client.app[WEBHOOKS]
    for _ in range(10):
        await dispatcher.run_once()
        if outcomes(client.app, f"{receiver.base}/all")["failed"] == 1:
            break
        clock.advance(1800)  # the backoff cap
    assert len(receiver.received) == 3  # tried at 0, 30 and 60 minutes: the next try would be past the max age
    row = (await event_log(client, auth, site.id))[-1]
    assert row["code"] == "WEBHOOKFAIL"
    assert row["verification_id"] == verification["verification_id"] and row["event_id"] == "evt_1"
    assert row["comment"] == (f"verification.responded to {receiver.base}/all given up after 3 attempts: HTTP 503")
    assert SECRET not in json.dumps(row)
    assert outcomes(client.app, f"{receiver.base}/all") == {"delivered": 0, "retry": 2, "failed": 1}
    clock.advance(3600)
    assert await dispatcher.run_once() == 0


async def test_each_subscriber_is_counted_from_zero_before_its_first_attempt(client, receiver):
    metrics = await (await client.get("/metrics")).text()
    for path in ("/all", "/expired"):
        for outcome in ("delivered", "retry", "failed"):
            assert f'gateway_webhook_deliveries_total{{outcome="{outcome}",subscriber="{receiver.base}{path}"}} 0.0' \
                in metrics


async def test_attempts_count_by_subscriber_never_with_its_query_string(client, app, auth, site, contact, receiver,
                                                                       clock, config):
    await responded(client, auth, site)
    dead = f"http://127.0.0.1:{free_port()}/dead"  # nothing listens: connection refused
    hooks = [msgspec.structs.replace(config.webhooks[0], url=f"{receiver.base}/all?token=hush-hush-42"),
             msgspec.structs.replace(config.webhooks[0], url=dead)]
    dispatcher = WebhookDispatcher(app[STORE], clock, app[METRICS], hooks)
    await dispatcher.start()
    try:
        assert await dispatcher.run_once() == 2
    finally:
        await dispatcher.close()
    assert outcomes(app, f"{receiver.base}/all") == {"delivered": 1, "retry": 0, "failed": 0}
    assert outcomes(app, dead) == {"delivered": 0, "retry": 1, "failed": 0}
    assert "hush-hush-42" not in await (await client.get("/metrics")).text()


async def test_fan_out_is_exactly_once_across_restarts(client, app, auth, site, contact, receiver, clock, config):
    await responded(client, auth, site)
    first = app[WEBHOOKS]
    assert await first.run_once() == 1
    await first.close()

    second = WebhookDispatcher(app[STORE], clock, app[METRICS], config.webhooks)
    await second.start()
    assert await second.run_once() == 0  # event 1 is not fanned out again
    await post_alarm(client, auth, site.id, "BA", event_id="evt_3")
    clock.advance(300)
    await app[EXPIRY].run_once()
    # The second dispatcher dies after fanning out and claiming: the next start releases its leases.
    await app[STORE].fan_out_webhook_events(clock.now(), second._subscribers_for, 10)
    assert len(await app[STORE].claim_webhook_deliveries(clock.now(), clock.now().replace(year=2030), 10)) == 2
    await second.close()

    third = WebhookDispatcher(app[STORE], clock, app[METRICS], config.webhooks)
    await third.start()
    try:
        assert await third.run_once() == 2
        assert await third.run_once() == 0
    finally:
        await third.close()
    assert sorted((path, event_id) for path, event_id, _ in receiver.received) == [
        ("/all", "1"), ("/all", "2"), ("/expired", "2")]
    assert outcomes(app, f"{receiver.base}/all")["delivered"] == 2
    assert outcomes(app, f"{receiver.base}/expired")["delivered"] == 1


async def test_inbound_is_answered_while_a_subscriber_hangs(aiohttp_client, config, clock, receiver):
    config = msgspec.structs.replace(config, webhooks=[msgspec.structs.replace(config.webhooks[0], timeout_seconds=5)])
    app = create_app(config, clock=clock, run_loops=True)
    client = await aiohttp_client(app)
    store = app[STORE]
    auth = {"Authorization": f"Bearer {await create_key(store, 'tests', clock)}"}
    site = await store.add_site(Site(id="site_main", dealer_id="12345", name="Main Office", created_at=clock.now()))
    await store.add_contact(Contact(id=0, site_id=site.id, first_name="John", last_name="Doe", phone=PHONE,
                                    auto_notify=True, created_at=clock.now()))
    receiver.script = ["hang"]
    await responded(client, auth, site)
    await asyncio.wait_for(receiver.arrived.wait(), 5)  # the dispatcher loop found it and is waiting
    answer = await text(client, PHONE, "NO")  # answered while the POST hangs: the POST is still in flight after
    assert answer["replies"] == ["The alarm at Main Office was already confirmed by John Doe."]
    assert outcomes(app, f"{receiver.base}/all") == {"delivered": 0, "retry": 0, "failed": 0}  # still in flight
    receiver.release.set()
    for _ in range(1500):  # 30 s at most: the dispatcher records the answer when the loaded machine lets it
        if outcomes(app, f"{receiver.base}/all")["delivered"] == 1:
            break
        await asyncio.sleep(0.02)
    assert outcomes(app, f"{receiver.base}/all") == {"delivered": 1, "retry": 0, "failed": 0}
    assert codes(await event_log(client, auth, site.id))[-1] == "SMSReply"  # logged with the verification


def test_config_needs_a_secret_and_known_event_names():
    with pytest.raises(ConfigFileError) as caught:
        parse_config("webhooks:\n  - url: https://example.com/hook\n    events: [verification.responded, alarm.fired]\n",
                     "gateway.yaml")
    text_ = str(caught.value)
    assert "give secret_file or secret_env" in text_ and "'alarm.fired' is not one of" in text_


async def test_a_missing_secret_stops_the_start_without_showing_secrets(store, clock):
    hooks = [Webhook(url="http://127.0.0.1:9/x", secret_env="GW_TEST_UNSET_SECRET"),
             Webhook(url="http://127.0.0.1:9/y", secret_file="/nonexistent/webhook.secret")]
    for hook in hooks:
        dispatcher = WebhookDispatcher(store, clock, Metrics(), [hook])
        with pytest.raises(ConfigurationError) as caught:
            await dispatcher.start()
        assert "webhooks[0].secret" in str(caught.value)
        await dispatcher.close()
