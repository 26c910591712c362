"""How many examples a property gets: a small fixed number in CI, ``$FUZZ_EXAMPLES`` each for long runs."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def examples(n: int) -> settings:
    """``n`` examples (or ``$FUZZ_EXAMPLES``), no per-example deadline: CI machines are shared and slow."""
    wanted = int(os.environ.get("FUZZ_EXAMPLES") or n)
    return settings(max_examples=wanted, deadline=None, suppress_health_check=[HealthCheck.too_slow])
