"""The store reads recovery from the carrier makes (gateway/stores/manager: newest_inbound_at, seen_inbound,
verifications_open_at, record_loopback_inbound, loopback_inbound), on real traffic through the app."""

from __future__ import annotations

from datetime import timedelta

from gateway.model import InboundMessage
from tests.conftest import PHONE
from tests.helpers import deliver, post_alarm, text
from tests.stores.through_app import app_config, app_store  # noqa: F401 (fixtures: the app on db_url)

OURS = "+15550000000"  # carrier.from_number by default: where loopback texts go without "to"


async def test_newest_inbound_at_is_per_carrier_and_number(client, store, clock):
    assert await store.newest_inbound_at("loopback", OURS) is None
    await text(client, PHONE, "hello")
    clock.advance(90)
    await text(client, PHONE, "again")
    assert await store.newest_inbound_at("loopback", OURS) == clock.now()
    assert await store.newest_inbound_at("loopback", "+15550000001") is None
    assert await store.newest_inbound_at("twilio", OURS) is None


async def test_seen_inbound_names_the_ids_already_recorded(client, store):
    await text(client, PHONE, "hello", message_id="SM-seen-1")
    await text(client, PHONE, "again", message_id="SM-seen-2")
    assert await store.seen_inbound("loopback", ["SM-seen-1", "SM-new", "SM-seen-2"]) == {"SM-seen-1", "SM-seen-2"}
    assert await store.seen_inbound("twilio", ["SM-seen-1"]) == set()
    assert await store.seen_inbound("loopback", []) == set()


async def test_verifications_open_at_a_past_moment_whatever_became_of_them(client, auth, store, site, contact,
                                                                           clock):
    before = clock.now() - timedelta(seconds=1)
    v = (await post_alarm(client, auth, site.id))["verifications"][0]
    await deliver(client)
    during = clock.now() + timedelta(seconds=60)
    await text(client, PHONE, "YES")  # answered: still listed for a moment when it was open
    after = clock.now() + timedelta(seconds=301)  # past the process's 300 s timeout
    assert await store.verifications_open_at(PHONE, before) == []
    found = await store.verifications_open_at(PHONE, during)
    assert [(x.id, x.status, c) for x, c in found] == [(v["verification_id"], "responded", contact.id)]
    assert await store.verifications_open_at(PHONE, after) == []
    assert await store.verifications_open_at("+15550999999", during) == []


async def test_loopback_inbound_kept_once_and_read_back_by_number_and_time(client, store, clock):
    def message(message_id: str, to: str = OURS) -> InboundMessage:
        return InboundMessage(carrier="loopback", carrier_message_id=message_id, from_phone=PHONE, to_phone=to,
                              body=f"text {message_id}", received_at=clock.now())

    assert await store.record_loopback_inbound(message("LB-1"))
    assert not await store.record_loopback_inbound(message("LB-1"))
    start = clock.advance(60)
    assert await store.record_loopback_inbound(message("LB-2"))
    assert await store.record_loopback_inbound(message("LB-3", to="+15550000001"))
    clock.advance(60)
    assert await store.record_loopback_inbound(message("LB-4"))
    kept = await store.loopback_inbound(OURS, start, limit=10)
    assert [(m.carrier_message_id, m.body, m.received_at) for m in kept] == [
        ("LB-2", "text LB-2", start), ("LB-4", "text LB-4", clock.now())]
    assert [m.carrier_message_id for m in await store.loopback_inbound(OURS, start, limit=1)] == ["LB-2"]
    assert [m.carrier_message_id for m in await store.loopback_inbound(OURS, start - timedelta(minutes=5), 10)] == \
        ["LB-1", "LB-2", "LB-4"]
