"""The end-to-end canary (gateway/loops/canary.py): a text around the carrier loop, its round trip in the histogram,
a dropped one missed (CANARYMISS, the counter, /readyz degraded but 200), and never a keyword or command."""

from __future__ import annotations

import msgspec
import pytest

from gateway.config import Canary
from gateway.core.canary import canary_text, new_token
from gateway.services.outbox_health import outbox_health
from gateway.web.appkeys import CANARY, SENDER
from tests.conftest import PHONE
from tests.fake_twilio import with_twilio
from tests.helpers import codes, deliver, event_log, outbox, post_alarm, scrape, text

CANARY_TO = "+15550100099"
ROUND_TRIP = "gateway_canary_round_trip_seconds"


@pytest.fixture(params=["loopback", "twilio"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def config(config, backend, fake_twilio):
    if backend == "twilio":
        config = with_twilio(config, fake_twilio, max_per_second=100)
    return msgspec.structs.replace(config, canary=Canary(to_number=CANARY_TO, every_minutes=15, timeout_seconds=120))


@pytest.fixture
async def canary(client, config, backend, fake_twilio):
    """The app's canary; through Twilio, the fake hands texts to CANARY_TO to the gateway's inbound webhook."""
    await client.app[SENDER].start()  # the loops are the test's: start marks the sender running (/readyz)
    if backend == "twilio":
        fake_twilio.deliver_to = client
        fake_twilio.numbers[CANARY_TO] = config.http.public_url.rstrip("/") + "/carriers/twilio/inbound"
    return client.app[CANARY]


async def around(client, fake_twilio) -> None:
    """The outbox sends what is due, and what the carrier loops back has come in."""
    await deliver(client)
    await fake_twilio.settle()


async def readyz(client) -> tuple[int, dict]:
    resp = await client.get("/readyz")
    return resp.status, await resp.json()


async def test_a_canary_goes_round_and_its_round_trip_is_observed(client, canary, clock, auth, fake_twilio, backend):
    await canary.run_once()
    clock.advance(3)
    await around(client, fake_twilio)
    samples = await scrape(client)
    assert samples[(ROUND_TRIP + "_count", ())] == 1.0 and samples[(ROUND_TRIP + "_sum", ())] == 3.0
    assert samples[(ROUND_TRIP + "_bucket", (("le", "2.0"),))] == 0.0
    assert samples[(ROUND_TRIP + "_bucket", (("le", "5.0"),))] == 1.0
    assert samples[("gateway_canary_missed_total", ())] == 0.0
    assert samples[("gateway_inbound_messages_total", (("carrier", backend), ("outcome", "canary")))] == 1.0
    status, body = await readyz(client)
    assert status == 200 and body["detail"] == "ok"
    assert body["canary"] == {"result": "ok", "from": client.app[CANARY].from_number, "to": CANARY_TO,
                              "every_minutes": 15, "timeout_seconds": 120, "last_round_trip_seconds": 3.0,
                              "last_missed_at": None}
    assert await event_log(client, auth) == []  # it met no keyword table and no catch-all
    await canary.run_once()
    clock.advance(14 * 60)
    await canary.run_once()  # not due yet: one text every 15 minutes
    await around(client, fake_twilio)
    assert (await scrape(client))[(ROUND_TRIP + "_count", ())] == 1.0


async def test_a_dropped_canary_is_missed_logged_counted_and_degrades_readyz_until_one_comes_back(
        client, canary, clock, auth, fake_twilio, backend, store):
    await canary.run_once()
    if backend == "twilio":
        fake_twilio.drop = 1  # Twilio loses this one on its way to our number
        await around(client, fake_twilio)
    # (through the loopback carrier the outbox does not send it: as if the sender were stuck)
    clock.advance(119)
    await canary.run_once()
    assert (await readyz(client))[1]["detail"] == "ok"  # not late yet
    clock.advance(1)
    await canary.run_once()
    [row] = await event_log(client, auth)
    assert row["code"] == "CANARYMISS" and row["phone"] == CANARY_TO
    assert "did not come back within 120 s" in row["comment"] and row["details"]["timeout_seconds"] == 120
    samples = await scrape(client)
    assert samples[("gateway_canary_missed_total", ())] == 1.0
    assert samples[("gateway_event_log_rows_total", (("code", "CANARYMISS"),))] == 1.0
    status, body = await readyz(client)
    assert status == 200 and body["status"] == "ready" and body["detail"] == "degraded"
    assert body["canary"]["result"] == "missed" and body["canary"]["last_missed_at"] == row["at"]
    assert "MISSED at" in (await outbox_health(store, None, clock, canary)).canary  # the console says so too

    clock.advance(15 * 60)
    await canary.run_once()
    await around(client, fake_twilio)
    status, body = await readyz(client)
    assert (status, body["detail"], body["canary"]["result"]) == (200, "ok", "ok")
    assert codes(await event_log(client, auth)) == ["CANARYMISS"]


@pytest.mark.parametrize("backend", ["loopback"])
async def test_canary_texts_never_reach_the_keyword_table_or_the_sms_interface(client, canary, clock, auth, site,
                                                                            contact, store):
    v = (await post_alarm(client, auth, site.id))["verifications"][0]
    await deliver(client)
    rows = len(await event_log(client, auth))
    stale = canary_text(new_token())  # a canary this process does not wait for (sent before a restart, say)
    for body in (stale, f"YES {stale}", f"{stale} HELP", f"STATUS 4821 {stale}"):
        answer = await text(client, PHONE, body)
        assert answer["replies"] == [], body
        answer = await text(client, "+15550999999", body)
        assert answer["replies"] == [], body
    assert len(await event_log(client, auth)) == rows  # no SMSYES, SMSUNKNOWN, SMSCMD... row
    assert (await store.get_verification(v["verification_id"])).status != "responded"
    await canary.run_once()
    await deliver(client)
    assert [m["to"] for m in await outbox(client)][-1] == CANARY_TO
    assert len(await event_log(client, auth)) == rows
