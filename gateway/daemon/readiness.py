"""What the gateway says of its own health: the /readyz checks, and the gauges each scrape reads afresh."""

from __future__ import annotations

import logging

from gateway.clock import Clock
from gateway.daemon.metrics import Metrics
from gateway.loops.sender import OutboxSender
from gateway.stores import Store

log = logging.getLogger(__name__)


async def store_answers(store: Store) -> bool:
    """The /readyz store check: a trivial query answered."""
    try:
        return await store.ping()
    except Exception:
        return False


async def checks(store: Store, sender: OutboxSender | None) -> dict[str, bool]:
    """Whether the store answers and the sender loop runs (all True: ready)."""
    return {"store": await store_answers(store), "sender": bool(sender and sender.running)}


async def refresh(metrics: Metrics, store: Store, sender: OutboxSender | None, clock: Clock) -> None:
    """Set the readiness and outbox gauges from the store as it is now (called by each scrape)."""
    ready = await checks(store, sender)
    metrics.store_up.set(ready["store"])
    metrics.sender_up.set(ready["sender"])
    if not ready["store"]:
        return  # the outbox gauges keep their last values; gateway_store_up says why they do not move
    try:
        depth, oldest = await store.outbox_depth(), await store.outbox_oldest()
    except Exception:
        log.exception("metrics: the outbox could not be read")
        return
    metrics.outbox_depth.set(depth)
    now = clock.now()
    metrics.outbox_oldest_age.clear()  # a kind whose messages all went out has no age any more
    for kind, queued_at in oldest.items():
        metrics.outbox_oldest_age.labels(kind).set(max(0.0, (now - queued_at).total_seconds()))
