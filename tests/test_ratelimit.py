"""The segment budget of a sender: pace, saved-up capacity, oversized messages, refunds."""

from __future__ import annotations

import pytest

from gateway.clock import ManualClock
from gateway.loops.pace import SenderLimits, TokenBucket


def test_one_segment_a_second_paces_exactly():
    clock = ManualClock()
    bucket = TokenBucket(1.0, clock)
    assert [bucket.reserve(1) for _ in range(4)] == [0, 1, 2, 3]


def test_a_long_message_goes_at_once_and_the_next_waits_its_segments():
    clock = ManualClock()
    bucket = TokenBucket(2.0, clock)
    assert bucket.reserve(3) == 0
    assert bucket.reserve(1) == pytest.approx(1.5)


def test_idle_time_saves_up_only_to_capacity_and_refunds_return_tokens():
    clock = ManualClock()
    bucket = TokenBucket(100.0, clock)
    assert bucket.capacity == 10
    clock.advance(60)
    assert [bucket.reserve(1) for _ in range(10)] == [0] * 10
    assert bucket.reserve(1) == pytest.approx(0.01)
    bucket.refund(1)
    assert bucket.reserve(1) == pytest.approx(0.01)


def test_each_sender_has_its_own_budget_and_none_means_unlimited():
    limits = SenderLimits(ManualClock(), {"+15005550006": 1.0, "12345": 100.0}.get)
    assert [limits.reserve("+15005550006", 1) for _ in range(2)] == [0, 1]
    assert limits.reserve("12345", 1) == 0
    assert [limits.reserve("+19999999999", 5) for _ in range(3)] == [0, 0, 0]
