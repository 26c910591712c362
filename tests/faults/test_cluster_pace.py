"""The carrier's pace across daemons: three daemons on one PostgreSQL sending from one Twilio number at
``max_per_second: 10`` together stay at 10 segments a second (plus one bucketful), as the fake Twilio sees it."""

from __future__ import annotations

import collections
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.core import segments
from tests import storage
from tests.faults.harness import call, close_all, cluster, seed_site, start_all, wait_until
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, fake_twilio_in_a_thread

pytestmark = pytest.mark.postgres
RATE = 10.0
CONTACTS = 30
JITTER = 2  # segments a late HTTP round trip may bunch up with the next ones at the fake


@dataclass
class PaceRun:
    received: list  # what the fake Twilio took, in order
    sizes: list[int]  # each one's segments
    per_daemon: list[int]  # texts each daemon's sender claimed
    rate: float  # segments per second from the first to the last

    def line(self, daemons: int, pace: float) -> str:
        seconds = self.received[-1].at - self.received[0].at
        return (f"{len(self.received)} texts ({sum(self.sizes)} segments) from {daemons} daemon(s) in "
                f"{seconds:.2f} s: {self.rate:.2f} segments/s at a pace of {pace:g}; texts per daemon "
                f"{self.per_daemon}")


def run(tmp: Path, url: str, *, daemons: int, contacts: int, alarms_each: int = 1, rate: float = RATE) -> PaceRun:
    """``alarms_each`` alarms through each of ``daemons`` daemons to a site of ``contacts``, all from one Twilio
    number at ``rate``; what the fake Twilio saw."""
    with fake_twilio_in_a_thread() as (fake, _):
        nodes = cluster(tmp, url, daemons, carrier={
            "backend": "twilio", "from_number": TWILIO_NUMBER, "twilio": {
                "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "api_base_url": fake.url,
                "max_per_second": rate}})
        try:
            site = seed_site(url, contacts)
            start_all(nodes)
            for n in range(alarms_each * daemons):  # round-robin: every daemon's sender has work
                status, body = call(nodes[n % daemons], "POST", "/ext/v1/events", {
                    "site_id": site, "event_code": "BA", "event_id": f"evt_{n}", "text": f"pace {n}"})
                assert status == 201, body
            total = contacts * alarms_each * daemons
            wait_until(lambda: len(fake.received) >= total, f"{total} texts at the fake Twilio",
                       30 + 2 * total / rate)
            received = sorted(fake.received, key=lambda r: r.at)
            senders = collections.Counter(r["claimed_by"] for r in storage.rows(url, "outbound_messages"))
        finally:
            close_all(nodes)
    sizes = [segments.count(r.body).segments for r in received]
    rate_seen = (sum(sizes) - sizes[0]) / (received[-1].at - received[0].at)
    return PaceRun(received, sizes, sorted(senders.values()), rate_seen)


def test_three_daemons_together_keep_one_senders_pace(tmp_path, pg_url):
    result = run(tmp_path, pg_url, daemons=3, contacts=CONTACTS)
    received, sizes = result.received, result.sizes
    assert len(result.per_daemon) == 3, result.per_daemon  # every daemon sent its share: the pace held across them
    # Over every stretch of the run: no more than one bucketful (1 segment) plus the rate times its length.
    for i in range(len(received)):
        for j in range(i + 1, len(received)):
            seconds = received[j].at - received[i].at
            assert sum(sizes[i:j + 1]) <= 1 + sizes[j] + RATE * seconds + JITTER, (i, j, seconds, sizes[i:j + 1])
    print("\n" + result.line(3, RATE))
    assert result.rate <= RATE * 1.05, result.line(3, RATE)
