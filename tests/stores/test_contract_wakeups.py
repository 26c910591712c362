"""Wake-ups between daemons: a commit that queues a text (or a webhook event) announces itself to every
other store on the database (PostgreSQL NOTIFY, in the committing transaction); SQLite has one daemon and
nobody to tell. The listening connection comes back by itself after it is lost."""

from __future__ import annotations

import asyncio

import pytest

from gateway.model import Decision, Notification, OutboundMessage
from gateway.stores import open_store
from gateway.stores.manager.base import OUTBOX_CHANNEL, WEBHOOKS_CHANNEL
from tests.conftest import PHONE
from tests.postgres import Proxy


def _text(body: str = "hello") -> OutboundMessage:
    return OutboundMessage(to_phone=PHONE, from_phone="+15550000000", body=body, kind="notice")


async def _heard_within(event: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), seconds)
        return True
    except asyncio.TimeoutError:
        return False


async def test_a_queued_text_wakes_the_other_daemons_listeners_and_only_at_commit(store, db_url, clock):
    other = open_store(db_url, clock=clock)  # a second daemon on the same database
    await other.open()
    heard = asyncio.Event()
    stop = await other.listen(OUTBOX_CHANNEL, heard.set)
    try:
        await asyncio.sleep(0.05)
        heard.clear()  # the listener's own "maybe missed something" call when it connects
        await store.commit(Decision(outbound=[_text()]))
        if store.engine == "postgres":
            assert await _heard_within(heard, 5), "no NOTIFY reached the other store"
        else:  # one daemon per SQLite file: its loops are woken in-process, not through the store
            assert not await _heard_within(heard, 0.3)
        heard.clear()
        await store.commit(Decision(replies=[]))  # writes no text: no wake-up
        assert not await _heard_within(heard, 0.3)
    finally:
        await stop()
        await other.close()


@pytest.mark.postgres
async def test_webhook_events_wake_the_dispatchers(pg_url, clock):
    writer, listener = open_store(pg_url, clock=clock), open_store(pg_url, clock=clock)
    await writer.open()
    await listener.open()
    heard = asyncio.Event()
    stop = await listener.listen(WEBHOOKS_CHANNEL, heard.set)
    try:
        await asyncio.sleep(0.05)
        heard.clear()
        await writer.commit(Decision(notifications=[Notification(event_type="test.event", data={"n": 1},
                                                                 at=clock.now())]))
        assert await _heard_within(heard, 5)
    finally:
        await stop()
        await writer.close()
        await listener.close()


@pytest.mark.postgres
async def test_the_listener_reconnects_after_its_connection_is_lost_and_says_it_may_have_missed_some(pg_url,
                                                                                                      clock):
    proxy = Proxy()
    await proxy.start()
    writer, listener = open_store(pg_url, clock=clock), open_store(proxy.url(pg_url), clock=clock)
    await writer.open()
    await listener.open()
    heard: list[float] = []
    woken = asyncio.Event()

    def hear() -> None:
        heard.append(asyncio.get_running_loop().time())
        woken.set()

    stop = await listener.listen(OUTBOX_CHANNEL, hear)
    try:
        await proxy.cut()
        await asyncio.sleep(0.3)
        await writer.commit(Decision(outbound=[_text("while cut")]))  # announced to nobody: the listener is gone
        woken.clear()
        await proxy.restore()
        assert await _heard_within(woken, 10), "the listener did not come back after the connection returned"
        woken.clear()
        await writer.commit(Decision(outbound=[_text("after")]))
        assert await _heard_within(woken, 5), "a NOTIFY after the reconnect was not heard"
    finally:
        await stop()
        await writer.close()
        await listener.close()
        await proxy.cut()
