"""Wake-ups across daemons on one PostgreSQL: a text committed anywhere is picked up at once by a sender
that only polls every 30 s (NOTIFY in the committing transaction, LISTEN in every daemon), and still after
the listening connection was lost and came back."""

from __future__ import annotations

import time

import pytest

from gateway.model import Decision, OutboundMessage
from gateway.stores import open_store
from tests.faults.harness import (
    Background, RelayedDatabase, close_all, cluster, loopback_sent, ready, start_all, wait_until,
)

pytestmark = pytest.mark.postgres
SLOW_POLL = {"outbox": {"poll_seconds": 30.0}}


def _queue_elsewhere(background: Background, url: str, body: str) -> float:
    """Commit one text from a process that runs no sender (as an API-only node would); when it committed."""

    async def commit() -> float:
        store = open_store(url)
        await store.open()
        try:
            await store.commit(Decision(outbound=[OutboundMessage(to_phone="+15550139999", from_phone="+15550000000",
                                                                  body=body, kind="notice")]))
            return time.monotonic()
        finally:
            await store.close()

    return background.run(commit())


def _picked_up(daemons, body: str, committed: float) -> float:
    wait_until(lambda: any(r["body"] == body for r in loopback_sent(daemons[0])), f"{body!r} sent", 10)
    return time.monotonic() - committed


def test_a_text_committed_elsewhere_is_sent_at_once_by_the_daemons_that_only_poll_every_30_s(tmp_path, pg_url):
    daemons = cluster(tmp_path, pg_url, 2, **SLOW_POLL)
    background = Background()
    try:
        start_all(daemons)
        time.sleep(0.5)  # past each sender's first look at the outbox: from now on only a wake-up or 30 s
        seconds = [_picked_up(daemons, f"wake {n}", _queue_elsewhere(background, pg_url, f"wake {n}"))
                   for n in range(3)]
        assert max(seconds) < 5, seconds  # the poll would take 30 s
        assert len(loopback_sent(daemons[1])) == 3  # once each
    finally:
        close_all(daemons)
        background.close()


def test_the_wake_up_comes_back_after_the_database_connection_is_lost(tmp_path, pg_url):
    background = Background()
    relay = RelayedDatabase(pg_url, background)
    (d,) = daemons = cluster(tmp_path, relay.url, 1, **SLOW_POLL)
    try:
        start_all(daemons)
        relay.cut()
        wait_until(lambda: ready(d) == 503, "/readyz 503 while the database is cut off", 15)
        relay.restore()
        wait_until(lambda: ready(d) == 200, "/readyz 200 once the database is back", 15)
        time.sleep(0.5)  # the listener's own catch-up look has passed: the next text needs a NOTIFY
        seconds = _picked_up(daemons, "after the cut", _queue_elsewhere(background, pg_url, "after the cut"))
        assert seconds < 8, seconds
        assert "Traceback" not in d.log.read_text()
    finally:
        close_all(daemons)
        relay.cut()
        background.close()
