"""The one retry backoff of the outbox and the webhooks: doubling per try, capped, jittered downwards."""

from __future__ import annotations

import random

import pytest

from gateway.loops.backoff import retry_delay


@pytest.mark.parametrize("jitter, delays", [
    ("low", [5.0, 10.0, 20.0, 40.0, 50.0, 50.0]),
    ("high", [10.0, 20.0, 40.0, 80.0, 100.0, 100.0]),
])
def test_the_delay_doubles_per_attempt_up_to_the_cap(monkeypatch, jitter, delays):
    monkeypatch.setattr(random, "uniform", lambda low, high: low if jitter == "low" else high)
    assert [retry_delay(attempt, 10.0, 100.0) for attempt in range(1, 7)] == delays


def test_retries_of_one_burst_spread_out():
    delays = [retry_delay(3, 10.0, 1800.0) for _ in range(200)]
    assert all(20.0 <= d <= 40.0 for d in delays) and len(set(delays)) > 100
