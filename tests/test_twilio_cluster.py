"""Twilio with several daemons on one PostgreSQL: a delivery report may reach a daemon other than the one
whose send it reports, before that send is recorded; it is applied (by the webhook's brief wait, or by the
record of the send itself) instead of being dropped."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import msgspec
import pytest

from gateway.config.sections import Database
from gateway.model import Decision, OutboundMessage
from gateway.stores import open_store
from gateway.web.app import create_app
from tests import storage
from tests.conftest import PHONE
from tests.fake_twilio import TWILIO_NUMBER, with_twilio

pytestmark = pytest.mark.postgres
SID = "SM" + "0123456789abcdef" * 2


async def test_a_report_for_another_daemons_send_not_yet_recorded_waits_for_it(aiohttp_client, config, clock,
                                                                              fake_twilio, pg_url):
    config = with_twilio(msgspec.structs.replace(config, database=Database(url=pg_url)), fake_twilio)
    client = await aiohttp_client(create_app(config, clock=clock, run_loops=False))  # the daemon the report reaches
    other = open_store(pg_url, clock=clock)  # the daemon that sends
    await other.open()
    try:
        await other.commit(Decision(outbound=[OutboundMessage(to_phone=PHONE, from_phone=TWILIO_NUMBER, body="hi",
                                                              kind="notice")]))
        now = clock.now()
        [item] = await other.claim_outbound(now, now + timedelta(seconds=30), 1)  # its carrier call under way

        async def record_the_send_late() -> None:
            await asyncio.sleep(0.4)
            await other.outbound_sent(item, "twilio", SID, clock.now())

        recording = asyncio.create_task(record_the_send_late())
        fake_twilio.deliver_to = client
        answer = await fake_twilio.post_signed(f"{config.http.public_url}/carriers/twilio/status",
                                               fake_twilio.report_fields(SID, "delivered"))
        assert answer[0] == 204
        await recording
        [row] = storage.rows(pg_url, "outbound_messages")
        assert row["status"] == "delivered"  # not left at "sent" by a report dropped as unknown
    finally:
        await other.close()


async def test_a_send_recorded_just_after_a_look_is_seen_by_the_next_look(aiohttp_client, config, clock, fake_twilio,
                                                                           pg_url):
    # The interleaving a loaded machine makes: the webhook's look misses, the other daemon's record of the send
    # commits, and only then is "is a send under way?" asked (no: it is recorded). A last look must follow.
    from gateway.web.appkeys import CARRIER

    config = with_twilio(msgspec.structs.replace(config, database=Database(url=pg_url)), fake_twilio)
    client = await aiohttp_client(create_app(config, clock=clock, run_loops=False))
    carrier = client.app[CARRIER]
    other = open_store(pg_url, clock=clock)
    await other.open()
    try:
        await other.commit(Decision(outbound=[OutboundMessage(to_phone=PHONE, from_phone=TWILIO_NUMBER, body="hi",
                                                              kind="notice")]))
        now = clock.now()
        [item] = await other.claim_outbound(now, now + timedelta(seconds=30), 1)
        looks = []

        async def look():
            found = await carrier.services.store.outbound_by_carrier_id("twilio", SID)
            if not looks:
                await other.outbound_sent(item, "twilio", SID, clock.now())  # committed right after the first look
            looks.append(found)
            return found

        found = await carrier.overtaken(look, lambda found: found is not None)
        assert looks[0] is None and found is not None and found[0].id == item.id
    finally:
        await other.close()
