"""Deciding again when the store refuses a decision made on a state that changed before its commit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from gateway.errors import Overloaded, StaleDecision
from gateway.model import Decision
from gateway.services.ordering import KeyedLocks, phone_key
from gateway.stores import CommitResult, Store

log = logging.getLogger(__name__)

STALE_RETRIES = 3


async def commit_fresh(store: Store, decide: Callable[[], Awaitable[Decision]], what: str, *,
                       locks: KeyedLocks | None = None, phones: Sequence[str] = ()) -> tuple[Decision, CommitResult]:
    """``decide()`` (which reads what it needs) and commit; when the store finds the state changed meanwhile
    (:class:`StaleDecision`: another alarm took a phone's reply reference), decide again from a fresh read.

    With ``locks``, the ``phones``' turns (the ones their texts take, across daemons on PostgreSQL) are held while
    deciding and committing: a burst of alarms for one site's contacts then picks their references one after the
    other instead of racing for the same one until the retries run out."""
    if locks is None or not phones:
        return await _decide_and_commit(store, decide, what)
    async with locks.hold([phone_key(p) for p in phones]):
        return await _decide_and_commit(store, decide, what)


async def _decide_and_commit(store: Store, decide: Callable[[], Awaitable[Decision]],
                             what: str) -> tuple[Decision, CommitResult]:
    for attempt in range(STALE_RETRIES):
        decision = await decide()
        try:
            return decision, await store.commit(decision)
        except StaleDecision as exc:
            if attempt == STALE_RETRIES - 1:
                # Nothing was committed: a 503 with Retry-After asks the sender (an alarm receiver, an API
                # caller) to send it again, which is safe, where a 500 would say the gateway broke.
                log.warning("%s: %s, %d times; refused for now (503), to be sent again", what, exc.message,
                            STALE_RETRIES)
                raise Overloaded(f"{what}: the state it was decided on kept changing; send it again.") from exc
            log.info("%s: %s; deciding again", what, exc.message)
    raise AssertionError("unreachable")
