"""Retry backoff of the background loops (outbox sends, webhook deliveries): capped, jittered, exponential."""

from __future__ import annotations

import random


def retry_delay(attempts: int, base_seconds: float, max_seconds: float) -> float:
    """Seconds to wait after the ``attempts``-th failed try: ``base_seconds`` doubled per try, at most
    ``max_seconds``, then scaled by a random 0.5-1 so the retries of one burst do not come back together."""
    return min(max_seconds, base_seconds * 2 ** (attempts - 1)) * random.uniform(0.5, 1.0)
