"""The loops that run on every daemon act on each item once: expiry, the end of site tests, webhook deliveries.

The items are seeded due already (timeouts and test times in the past, as if the clock had moved on),
so both daemons' loops find them on their next pass and race for every one.
"""

from __future__ import annotations

import asyncio
import collections
import time
from datetime import datetime, timedelta, timezone

import pytest

from gateway.model import Decision, Recipient, Site, SiteTest, Verification
from gateway.stores import open_store
from tests.cluster.harness import Cluster, Subscriber, call, seed_site, wait_for
from tests.conftest import PHONE

pytestmark = pytest.mark.postgres
VERIFICATIONS = 60
SITES = 20


@pytest.fixture
def subscriber(tmp_path):
    sub = Subscriber(tmp_path)
    yield sub
    sub.close()


async def seed_due(url: str, site_id: str) -> None:
    """Verifications whose timeout passed a second ago, and sites whose test time just ran out, in one
    commit each, as the daemons' clocks would find them after time moved on."""
    store = open_store(url)
    await store.open()
    try:
        now = datetime.now(timezone.utc)
        for n in range(SITES):
            await store.add_site(Site(id=f"site_t{n}", dealer_id="12345", name=f"Shop {n}", created_at=now))
        await store.commit(Decision(site_tests=[SiteTest(site_id=f"site_t{n}", until=now - timedelta(seconds=1))
                                                for n in range(SITES)],
                                    opened=[Verification(id=f"ver_{n}", site_id=site_id, event_id=None,
                                                         process="burglary", status="sent", created_at=now,
                                                         timeout_at=now - timedelta(seconds=1),
                                                         recipients=(Recipient(contact_id=1, phone=PHONE),))
                                            for n in range(VERIFICATIONS)]))
    finally:
        await store.close()


def test_two_daemons_expire_each_verification_end_each_test_and_deliver_each_webhook_once(tmp_path, pg_url,
                                                                                          subscriber):
    cluster = Cluster(tmp_path, pg_url, 2, webhooks=subscriber.settings,
                      verifications={"expiry_poll_seconds": 0.05})
    try:
        site_id = seed_site(cluster.first)
        cluster.start()
        asyncio.run(seed_due(pg_url, site_id))
        expired = wait_for(lambda: len(subscriber.events("verification.expired")) >= VERIFICATIONS and
                           subscriber.events("verification.expired"), "every verification.expired delivered")
        time.sleep(1.0)  # both daemons' loops pass again: a second expiry or delivery would be here by now
        key = cluster.key()
        rows = []
        for site in [site_id] + [f"site_t{n}" for n in range(SITES)]:
            rows += call(cluster.first, "GET", f"/ext/v1/event-log?site_id={site}&limit=1000", key=key)[1]["data"]
        timeouts = collections.Counter(r["verification_id"] for r in rows if r["code"] == "SMSTIMEOUT")
        assert timeouts == {f"ver_{n}": 1 for n in range(VERIFICATIONS)}
        assert collections.Counter(r["site_id"] for r in rows if r["code"] == "OFFTEST") == {
            f"site_t{n}": 1 for n in range(SITES)}
        expired = subscriber.events("verification.expired")
        assert collections.Counter(e["verification_id"] for e in expired) == {
            f"ver_{n}": 1 for n in range(VERIFICATIONS)}
        event_ids = [event_id for event_id, _ in subscriber.received]
        assert len(event_ids) == len(set(event_ids))  # no event delivered twice
        assert cluster.stop() == [0, 0]
    finally:
        cluster.close()
