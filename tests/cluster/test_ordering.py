"""Texts from one number reaching two daemons at once are decided one after the other."""

from __future__ import annotations

import pytest

from tests.cluster.harness import Cluster, event_log, seed_site, text

pytestmark = pytest.mark.postgres
PIN = "48213579"


def test_eight_wrong_pins_across_two_daemons_lock_out_once(cluster: Cluster):
    site_id = seed_site(cluster.first)
    cluster.first.cli("contact", "set-pin", "1", input=f"{PIN}\n")
    cluster.start()
    a, b = cluster
    guesses = [(a if i % 2 else b, f"STATUS {10000000 + i}") for i in range(8)]
    replies = cluster.go([lambda d=d, g=g: text(d, g) for d, g in guesses])
    rows = event_log(a, cluster.key(), site_id)["data"]
    codes = [r["code"] for r in rows]
    assert codes.count("SMSLOCKOUT") == 1, codes
    assert codes.count("SMSBADPIN") == 5  # counted one after the other: none decided from a stale count
    assert sum(r == ["Too many wrong PINs. Try again later."] for r in replies) >= 1
    for daemon in cluster:  # no session: the right PIN is refused on both daemons while locked
        assert text(daemon, f"STATUS {PIN}") == ["Too many wrong PINs. Try again later."]
