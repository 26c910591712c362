"""Outbox and carrier health for the console: what is queued, how old, and what failed lately by code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from gateway.clock import Clock
from gateway.core.carrier_errors import CarrierErrorInfo, explain
from gateway.daemon import readiness
from gateway.loops.canary import CanaryWatch
from gateway.loops.sender import OutboxSender
from gateway.stores import Store

FAILURE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Health:
    store_up: bool
    sender_up: bool
    depth: int  # texts and emails queued or being sent
    oldest_seconds: dict[str, float]  # by kind: how long the oldest still queued has waited
    failures: list[tuple[CarrierErrorInfo, int]]  # texts failed in the last hour by error code, most first
    canary: str | None  # the end-to-end canary's state in words; None: not configured


async def outbox_health(store: Store, sender: OutboxSender | None, clock: Clock,
                        canary: CanaryWatch | None = None) -> Health:
    ready = await readiness.checks(store, sender)
    said = canary.describe() if canary is not None else None
    if not ready["store"]:
        return Health(store_up=False, sender_up=ready["sender"], depth=0, oldest_seconds={}, failures=[], canary=said)
    now = clock.now()
    oldest = {kind: max(0.0, (now - at).total_seconds()) for kind, at in (await store.outbox_oldest()).items()}
    counts = await store.send_failures_since(now - FAILURE_WINDOW)
    failures = sorted(((explain(code or None), n) for code, n in counts.items()), key=lambda f: (-f[1], f[0].code))
    return Health(store_up=True, sender_up=ready["sender"], depth=await store.outbox_depth(), oldest_seconds=oldest,
                  failures=failures, canary=said)
