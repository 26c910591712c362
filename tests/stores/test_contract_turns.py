"""Turns: while one daemon decides on a number's text, another daemon's text from that number waits."""

from __future__ import annotations

import asyncio

import pytest

from gateway.stores import open_store


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
