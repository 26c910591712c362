"""A reader paging the event log while two daemons write to it sees every row exactly once."""

from __future__ import annotations

import threading

import pytest

from tests.cluster.harness import Cluster, event_log, seed_site, text

pytestmark = pytest.mark.postgres
PHONES = [f"+1555012{n:04d}" for n in range(8)]
TEXTS_PER_PHONE = 12


def test_a_reader_paging_during_concurrent_writes_on_two_daemons_sees_every_row_once(cluster: Cluster):
    site_id = seed_site(cluster.first, *((f"C{n}", phone) for n, phone in enumerate(PHONES)))
    cluster.start()
    key = cluster.key()
    done = threading.Event()
    seen: list[int] = []

    def read() -> None:  # follows next_after, as an integration does, until the writers are done and caught up
        after = 0
        while True:
            finished = done.is_set()
            page = event_log(cluster.first, key, site_id, after=after, limit=7)
            seen.extend(r["id"] for r in page["data"])
            after = page["next_after"] or after
            if finished and not page["data"]:
                return

    def write(n: int) -> None:
        daemon = cluster[n % 2]
        for i in range(TEXTS_PER_PHONE):
            text(daemon, f"hello {i}", PHONES[n])

    reader = threading.Thread(target=read)
    reader.start()
    try:
        cluster.go([lambda n=n: write(n) for n in range(len(PHONES))])
    finally:
        done.set()
        reader.join(timeout=60)
    everything = []
    after = 0
    while page := event_log(cluster.first, key, site_id, after=after, limit=1000)["data"]:
        everything.extend(r["id"] for r in page)
        after = page[-1]["id"]
    assert len(everything) >= len(PHONES) * TEXTS_PER_PHONE
    assert len(seen) == len(set(seen)), "a row was served twice"
    assert sorted(seen) == sorted(everything), f"{len(set(everything) - set(seen))} rows never served"
