"""The sending pace held in the store (shared by every daemon on PostgreSQL), and the "a send may be under way"
question the Twilio status webhook asks of every daemon's claims."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gateway.loops.pace import BURST_SECONDS, SharedPace
from gateway.model import Decision, OutboundMessage
from gateway.stores import open_store
from tests.conftest import PHONE

SENDER = "+15550000000"


async def test_a_reservation_moves_the_senders_full_time_forward_from_now_or_from_where_it_was(store, clock):
    now = clock.now()
    assert await store.reserve_pace(SENDER, 0.1, now) == now + timedelta(seconds=0.1)
    assert await store.reserve_pace(SENDER, 0.5, now) == now + timedelta(seconds=0.6)
    assert await store.reserve_pace("+15550000001", 1.0, now) == now + timedelta(seconds=1)  # its own budget
    later = now + timedelta(seconds=10)  # the budget refilled meanwhile: from now again
    assert await store.reserve_pace(SENDER, 0.1, later) == later + timedelta(seconds=0.1)
    await store.refund_pace(SENDER, 0.1, later)
    assert await store.reserve_pace(SENDER, 0.2, later) == later + timedelta(seconds=0.2)
    await store.refund_pace(SENDER, 5.0, later)  # never to before now
    assert await store.reserve_pace(SENDER, 0.1, later) == later + timedelta(seconds=0.1)


async def test_the_shared_pace_gives_turns_at_the_rate_after_one_bucketful(store, clock):
    pace = SharedPace(store, clock, {SENDER: 10.0}.get)
    turns = [await pace.reserve(SENDER, 1) for _ in range(5)]
    assert turns == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4], abs=0.002)  # a bucket of 10 * 0.1 = 1 segment
    assert await pace.reserve("+15559999999", 3) == 0  # no limit for that sender
    clock.advance(seconds=60)
    assert await pace.reserve(SENDER, 3) == 0  # bigger than the bucket: goes when full, leaves it in debt
    assert await pace.reserve(SENDER, 1) == pytest.approx(0.3, abs=0.002)
    assert BURST_SECONDS * 10 == 1


@pytest.mark.postgres
async def test_daemons_reserving_at_once_never_get_the_same_turn(pg_url, clock):
    stores = [open_store(pg_url, clock=clock) for _ in range(3)]
    for s in stores:
        await s.open()
    try:
        paces = [SharedPace(s, clock, {SENDER: 10.0}.get) for s in stores]
        turns = await asyncio.gather(*(p.reserve(SENDER, 1) for p in paces for _ in range(10)))
        assert sorted(round(t, 3) for t in turns) == pytest.approx([n / 10 for n in range(30)], abs=0.002)
    finally:
        for s in stores:
            await s.close()


async def test_sends_in_flight_are_the_claims_of_any_daemon_still_under_lease(store, clock):
    now = clock.now()
    assert not await store.sends_in_flight(now)
    await store.commit(Decision(outbound=[OutboundMessage(to_phone=PHONE, from_phone=SENDER, body="hi",
                                                          kind="notice")]))
    assert not await store.sends_in_flight(now)  # queued, not handed to a carrier
    assert len(await store.claim_outbound(now, now + timedelta(seconds=30), 10)) == 1
    assert await store.sends_in_flight(now)
    assert not await store.sends_in_flight(now + timedelta(seconds=31))  # its sender died: nothing under way


async def test_release_own_claims_puts_back_what_this_daemon_holds_and_is_not_sending(store, db_url, clock):
    await store.commit(Decision(outbound=[OutboundMessage(to_phone=PHONE, from_phone=SENDER, body=f"t{n}",
                                                          kind="notice") for n in range(3)]))
    now = clock.now()
    mine = await store.claim_outbound(now, now + timedelta(seconds=30), 2)
    other = open_store(db_url, clock=clock)  # another daemon (on SQLite: a later process on the same file)
    await other.open()
    try:
        theirs = await other.claim_outbound(now, now + timedelta(seconds=30), 5)
        assert len(theirs) == 1
        assert await store.release_own_claims(now, [mine[0].id]) == 1  # mine[1]: its claim's answer was "lost"
        again = await other.claim_outbound(now, now + timedelta(seconds=30), 5)
        assert [i.id for i in again] == [mine[1].id] and again[0].attempts == 1  # the lost claim was no attempt
    finally:
        await other.close()
