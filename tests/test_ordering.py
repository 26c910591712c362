"""KeyedLocks: one holder per key at a time, in sorted order, and a cancelled waiter lets go of nothing it lacks."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from gateway.services.ordering import KeyedLocks


async def test_holders_of_one_key_take_turns_and_the_map_is_emptied():
    locks, inside, most = KeyedLocks(), 0, 0

    async def one():
        nonlocal inside, most
        async with locks.hold(["phone:+1"]):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(one() for _ in range(20)))
    assert most == 1 and locks._locks == {} and locks._users == {}


async def test_a_waiter_cancelled_does_not_release_the_holders_lock():
    locks = KeyedLocks()
    entered = asyncio.Event()
    release = asyncio.Event()

    async def holder():
        async with locks.hold(["k"]):
            entered.set()
            await release.wait()

    first = asyncio.create_task(holder())
    await entered.wait()
    waiter = asyncio.create_task(locks.hold(["k"]).__aenter__())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    third_in = asyncio.Event()

    async def third():
        async with locks.hold(["k"]):
            third_in.set()

    t = asyncio.create_task(third())
    await asyncio.sleep(0.01)
    assert not third_in.is_set()  # the holder still holds it: the cancelled waiter released nothing
    release.set()
    await asyncio.wait_for(asyncio.gather(first, t), 2)
    assert third_in.is_set() and locks._locks == {} and locks._users == {}


async def test_across_wraps_the_holding_and_sees_its_exception():
    seen = []

    @contextlib.asynccontextmanager
    async def across(keys):
        seen.append(("in", tuple(keys)))
        try:
            yield
        except ValueError:
            seen.append(("error",))
            raise
        finally:
            seen.append(("out",))

    locks = KeyedLocks(across=across)
    with pytest.raises(ValueError):
        async with locks.hold(["b", "a", "b"]):
            raise ValueError
    assert seen == [("in", ("a", "b")), ("error",), ("out",)] and locks._locks == {}
