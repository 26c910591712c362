"""PostgreSQL out of reach (through a relay the test cuts; the shared server is never touched):
the store says so, /readyz and webhooks answer 503, and the pool comes back by itself."""

from __future__ import annotations

import msgspec
import pytest

from gateway.config import Database
from gateway.errors import StoreUnavailable
from gateway.model import Decision, LogEntry
from gateway.stores import open_store
from gateway.web.app import create_app
from gateway.web.appkeys import STORE
from tests.conftest import PHONE
from tests.fake_twilio import with_twilio
from tests.helpers import post_alarm
from tests.postgres import Proxy

pytestmark = pytest.mark.postgres


@pytest.fixture
async def relay():
    proxy = Proxy()
    await proxy.start()
    yield proxy
    await proxy.cut()


def entry(clock) -> Decision:
    return Decision(log=[LogEntry(code="X", at=clock.now())])


async def test_the_store_says_the_server_is_away_and_reconnects_when_it_is_back(pg_url, relay, clock):
    store = open_store(relay.url(pg_url), clock=clock)
    await store.open()
    try:
        assert await store.ping()
        await relay.cut()
        for _ in range(2):  # broken pooled connections first, then refused new ones
            with pytest.raises(StoreUnavailable, match="does not answer"):
                await store.commit(entry(clock))
            with pytest.raises(StoreUnavailable):
                await store.ping()
        await relay.restore()
        assert await store.ping()
        await store.commit(entry(clock))
        assert [r.code for r in await store.event_log(site_id=None, after=0, limit=10)] == ["X"]
    finally:
        await store.close()


async def test_a_store_that_cannot_connect_at_open_is_unavailable(pg_url, relay, clock):
    await relay.cut()
    with pytest.raises(StoreUnavailable, match=r"PostgreSQL at postgresql://postgres@127\.0\.0\.1:\d+/"):
        await open_store(relay.url(pg_url), clock=clock).open()


async def test_readyz_and_webhooks_answer_503_while_the_database_is_away(aiohttp_client, config, fake_twilio, pg_url,
                                                                       relay, clock, site_and_key):
    config = with_twilio(msgspec.structs.replace(config, database=Database(url=relay.url(pg_url))), fake_twilio)
    client = await aiohttp_client(create_app(config, clock=clock, run_loops=False))
    fake_twilio.deliver_to = client
    site, auth = await site_and_key(client.app[STORE])
    assert (await (await client.get("/readyz")).json())["checks"]["store"] is True
    await post_alarm(client, auth, site.id, "BA")  # the key checked out once: remembered

    await relay.cut()
    ready = await client.get("/readyz")
    assert ready.status == 503 and (await ready.json())["checks"]["store"] is False
    url = config.http.public_url.rstrip("/") + "/carriers/twilio/inbound"
    assert (await fake_twilio.text(url, PHONE, "YES"))[0] == 503
    event = await client.post("/ext/v1/events", json={"site_id": site.id, "event_code": "BA"}, headers=auth)
    assert event.status == 503 and event.headers["Retry-After"] == "5"
    assert (await event.json())["error"]["code"] == "STORE_UNAVAILABLE"

    await relay.restore()
    assert (await (await client.get("/readyz")).json())["checks"]["store"] is True
    status, body = await fake_twilio.text(url, PHONE, "YES")
    assert status == 200 and "<Message>Thank you John." in body


@pytest.fixture
def site_and_key(clock):
    from gateway.auth.apikeys import create_key
    from gateway.model import Contact, Site

    async def make(store):
        site = await store.add_site(Site(id="site_main", dealer_id="12345", name="Main Office",
                                         created_at=clock.now()))
        await store.add_contact(Contact(id=0, site_id=site.id, first_name="John", last_name="Doe", phone=PHONE,
                                        auto_notify=True, created_at=clock.now()))
        return site, {"Authorization": f"Bearer {await create_key(store, 'tests', clock)}"}

    return make
