"""Turns: while one daemon decides on a number's text, another daemon's text from that number waits."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import StaleDecision
from gateway.model import Decision, InboundMessage, LogEntry, VerificationResponse
from gateway.stores import open_store
from tests.conftest import PHONE


@pytest.fixture
async def other(store, db_url, clock):
    """A second daemon's store on the same database."""
    second = open_store(db_url, clock=clock)
    await second.open()
    yield second
    await second.close()


async def _take(store, key: str, seen: list[str]) -> None:
    async with store.turns([key]):
        seen.append(f"second took {key}")


async def test_a_number_held_by_one_daemon_waits_on_the_other(store, other):
    seen: list[str] = []
    async with store.turns(["phone:+15550123456"]):
        same = asyncio.create_task(_take(other, "phone:+15550123456", seen))
        different = asyncio.create_task(_take(other, "phone:+15550123457", seen))
        await asyncio.wait_for(different, 5)  # another number never waits
        await asyncio.sleep(0.3)
        seen.append("first done")
    await asyncio.wait_for(same, 5)
    if store.engine == "postgres":
        assert seen == ["second took phone:+15550123457", "first done", "second took phone:+15550123456"]
    else:  # one daemon per SQLite file: its in-process locks (gateway/services/ordering.py) are the turns
        assert seen[-1] == "first done" and len(seen) == 3


async def test_a_turn_ends_when_its_holder_fails(store, other):
    with pytest.raises(RuntimeError):
        async with store.turns(["phone:+15550123456"]):
            raise RuntimeError("the decision failed")
    seen: list[str] = []
    await asyncio.wait_for(_take(other, "phone:+15550123456", seen), 5)
    assert seen == ["second took phone:+15550123456"]


async def test_a_commit_refused_in_a_turn_leaves_nothing_and_the_turn_goes_on(store, other, site, contact, clock):
    msg = InboundMessage(carrier="loopback", carrier_message_id="LBIN1", from_phone=PHONE, to_phone="+15550000000",
                         body="YES", received_at=clock.now())
    stale = Decision(inbound=msg, log=[LogEntry(code="SMSYES", at=clock.now(), site_id=site.id)],
                     responses=[VerificationResponse(verification_id="ver_gone", contact_id=contact.id,
                                                     response="confirmed", at=clock.now())])
    async with store.turns([f"phone:{PHONE}"]):
        with pytest.raises(StaleDecision):
            await store.commit(stale)
        decided_again = Decision(inbound=msg, log=[LogEntry(code="SMSIN", at=clock.now(), site_id=site.id)])
        assert (await store.commit(decided_again)).duplicate is False  # the refused commit left no inbound row
    assert (await other.commit(Decision(inbound=msg))).duplicate is True  # the turn's commit stands
    assert [r.code for r in await other.event_log(site_id=site.id, after=0, limit=10)] == ["SMSIN"]
