"""Readers that page by id never skip a row that a slower transaction commits by a lower id.

On PostgreSQL two transactions take ids from one sequence and may commit in the other order; a reader
that served the higher id first would never come back for the lower one. SQLite has one writer at a
time, so these cases cannot happen there: the tests hold a transaction open on PostgreSQL.
"""

from __future__ import annotations

from types import SimpleNamespace

import asyncpg
import pytest

from gateway.model import Decision, LogEntry, Notification
from gateway.stores import open_store

pytestmark = pytest.mark.postgres


@pytest.fixture
async def store(pg_url, clock):
    store = open_store(pg_url, clock=clock)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def slow(pg_url):
    """Another daemon's connection, whose transaction the test holds open."""
    conn = await asyncpg.connect(pg_url)
    yield conn
    await conn.close()


def entry(clock, comment: str) -> LogEntry:
    return LogEntry(code="SMSIN", at=clock.now(), site_id="site_main", comment=comment)


async def slow_log_row(conn, clock, comment: str):
    """Begin a transaction on ``conn`` that writes one event-log row (its id taken now) and stays open."""
    tx = conn.transaction()
    await tx.start()
    await conn.execute("INSERT INTO event_log (at, code, site_id, comment) VALUES ($1, 'SMSIN', 'site_main', $2)",
                       clock.now(), comment)
    return tx


async def test_the_event_log_waits_for_a_lower_id_still_in_a_transaction(store, slow, clock):
    await store.log([entry(clock, "first")])
    [first] = await store.event_log(site_id=None, after=0, limit=10)
    tx = await slow_log_row(slow, clock, "slow")  # takes the next id, commits last
    await store.log([entry(clock, "fast")])
    assert await store.event_log(site_id=None, after=first.id, limit=10) == []  # "fast" waits for "slow"
    assert await store.event_log(site_id="site_main", after=first.id, limit=10) == []
    await tx.commit()
    rows = await store.event_log(site_id=None, after=first.id, limit=10)
    assert [r.comment for r in rows] == ["slow", "fast"] and rows[0].id < rows[1].id
    assert await store.event_log(site_id=None, after=rows[-1].id, limit=10) == []


async def test_a_cursor_served_before_a_late_commit_still_gets_the_late_row(store, slow, clock):
    tx = await slow_log_row(slow, clock, "slow")
    await tx.rollback()  # a gap, as a rolled-back transaction leaves: it never holds a reader up
    await store.log([entry(clock, "after the gap")])
    [row] = await store.event_log(site_id=None, after=0, limit=10)
    assert row.comment == "after the gap"
    tx = await slow_log_row(slow, clock, "late")
    await tx.commit()
    [late] = await store.event_log(site_id=None, after=row.id, limit=10)
    assert late.comment == "late"


async def test_webhook_fan_out_waits_for_an_event_still_in_a_transaction(store, slow, clock):
    tx = slow.transaction()
    await tx.start()
    await slow.execute("INSERT INTO webhook_events (event_type, data, created_at) VALUES "
                       "('verification.expired', '{\"n\": 1}', $1)", clock.now())
    await store.commit(Decision(notifications=[Notification(event_type="verification.expired", at=clock.now(),
                                                             data={"n": 2})]))
    subscribers = lambda event_type, at: ["all"]  # noqa: E731
    assert await store.fan_out_webhook_events(clock.now(), subscribers, 10) == 0
    await tx.commit()
    assert await store.fan_out_webhook_events(clock.now(), subscribers, 10) == 2
    assert await store.fan_out_webhook_events(clock.now(), subscribers, 10) == 0
    claimed = await store.claim_webhook_deliveries(clock.now(), clock.now(), 10)
    assert sorted(d.data["n"] for d in claimed) == [1, 2]


async def test_the_loopback_outbox_waits_for_a_lower_id_still_in_a_transaction(store, slow, clock):
    tx = slow.transaction()
    await tx.start()
    await slow.execute("INSERT INTO loopback_messages (outbound_id, to_phone, from_phone, body, sent_at) "
                       "VALUES (1, '+15550123456', '+15550000000', 'slow', $1)", clock.now())
    fast = SimpleNamespace(id=2, to_phone="+15550123456", from_phone="+15550000000", body="fast", channel="sms")
    await store.record_loopback(fast, clock.now())
    assert await store.loopback_messages(after=0, to_phone=None, limit=10) == []
    await tx.commit()
    assert [m["body"] for m in await store.loopback_messages(after=0, to_phone=None, limit=10)] == ["slow", "fast"]


async def test_a_transaction_open_in_another_database_never_holds_the_reader(store, clock):
    from tests.postgres import SERVER

    elsewhere = await asyncpg.connect(SERVER)  # another application's database on the same server
    try:
        tx = elsewhere.transaction()
        await tx.start()
        await elsewhere.fetchval("SELECT pg_current_xact_id()")  # it writes: it holds a transaction id
        await store.log([entry(clock, "mine")])
        assert [r.comment for r in await store.event_log(site_id=None, after=0, limit=10)] == ["mine"]
        await tx.rollback()
    finally:
        await elsewhere.close()
