"""The carrier's pace across daemons: three daemons on one PostgreSQL sending from one Twilio number at
``max_per_second: 10`` together stay at 10 segments a second (plus one bucketful), as the fake Twilio sees it."""

from __future__ import annotations

import collections

import pytest

from gateway.core import segments
from tests import storage
from tests.faults.harness import call, close_all, cluster, seed_site, start_all, wait_until
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, fake_twilio_in_a_thread

pytestmark = pytest.mark.postgres
RATE = 10.0
CONTACTS = 30
JITTER = 2  # segments a late HTTP round trip may bunch up with the next ones at the fake


def test_three_daemons_together_keep_one_senders_pace(tmp_path, pg_url):
    with fake_twilio_in_a_thread() as (fake, _):
        daemons = cluster(tmp_path, pg_url, 3, carrier={
            "backend": "twilio", "from_number": TWILIO_NUMBER, "twilio": {
                "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "api_base_url": fake.url,
                "max_per_second": RATE}})
        try:
            site = seed_site(pg_url, CONTACTS)
            start_all(daemons)
            for n, d in enumerate(daemons):  # one alarm through each daemon: every daemon's sender has work
                status, body = call(d, "POST", "/ext/v1/events", {"site_id": site, "event_code": "BA",
                                                                  "event_id": f"evt_{n}", "text": f"pace {n}"})
                assert status == 201, body
            total = CONTACTS * len(daemons)
            wait_until(lambda: len(fake.received) >= total, f"{total} texts at the fake Twilio", 60)
            received = sorted(fake.received, key=lambda r: r.at)
            senders = collections.Counter(r["claimed_by"] for r in storage.rows(pg_url, "outbound_messages"))
        finally:
            close_all(daemons)
    assert len(senders) == 3, senders  # every daemon sent its share: the pace held across processes
    sizes = [segments.count(r.body).segments for r in received]
    # Over every stretch of the run: no more than one bucketful (1 segment) plus the rate times its length.
    for i in range(len(received)):
        for j in range(i + 1, len(received)):
            seconds = received[j].at - received[i].at
            assert sum(sizes[i:j + 1]) <= 1 + sizes[j] + RATE * seconds + JITTER, (i, j, seconds, sizes[i:j + 1])
    seconds = received[-1].at - received[0].at
    rate = (sum(sizes) - sizes[0]) / seconds
    print(f"\n{len(received)} texts ({sum(sizes)} segments) from 3 daemons in {seconds:.2f} s: "
          f"{rate:.2f} segments/s at a pace of {RATE:g}; texts per daemon {sorted(senders.values())}")
    assert rate <= RATE * 1.05, rate
