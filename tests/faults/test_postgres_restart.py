"""Fault: the PostgreSQL server restarted in the middle of a burst (a cluster of the test's own).

While it is down the daemon says so: /readyz 503, alarm events and carrier webhooks 503 (never 500, never an
answer for something not recorded), and the alarm receiver sends again. Once it is back the pool reconnects by
itself within seconds, the outbox resumes, and every text committed before or after reaches the carrier.
"""

from __future__ import annotations

import collections
import json
import re
import threading
import time

import pytest

from tests.daemon import Daemon
from tests.faults.harness import DOWN, loopback_sent, phone, ready, seed_site, wait_until
from tests.faults.pg_cluster import own_cluster  # noqa: F401  (the fixture)

pytestmark = pytest.mark.postgres  # under CI a skip fails the run: the binaries are there
CONTACTS = 40
ALARMS = 12
IN_FLIGHT = 8
EVENT = re.compile(r"burst (evt_\d+)")


def _post(d: Daemon, path: str, payload: dict) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {d.operator_key()}", "Content-Type": "application/json"}
    status, body = d.request("POST", path, json.dumps(payload).encode(), headers)
    return status, json.loads(body) if body else {}


def test_postgres_restarted_mid_burst_503s_while_down_reconnects_and_loses_nothing(tmp_path, own_cluster):  # noqa: F811
    d = Daemon(tmp_path, database={"url": own_cluster.url}, carrier={"loopback_latency_seconds": 0.02},
               outbox={"max_in_flight": IN_FLIGHT})
    statuses: collections.Counter[int] = collections.Counter()
    try:
        site = seed_site(own_cluster.url, CONTACTS)
        d.start()
        down = threading.Event()

        def alarm_receiver() -> None:
            """Each alarm sent until the gateway takes it (201; 200 if a lost answer had taken it), as receivers do."""
            for n in range(ALARMS):
                while True:
                    try:
                        status, body = _post(d, "/ext/v1/events", {"site_id": site, "event_code": "BA",
                                                                   "event_id": f"evt_{n}", "text": f"burst evt_{n}"})
                    except DOWN:
                        status = 0
                    statuses[status] += 1
                    if status in (200, 201):
                        break
                    assert status == 503, (status, body)
                    time.sleep(0.1)
                if n == 3:
                    down.wait(30)  # the rest of the burst meets the outage

        receiver = threading.Thread(target=alarm_receiver, name="alarm-receiver")
        receiver.start()
        wait_until(lambda: len(loopback_sent(d)) >= 60, "the burst under way", 30)
        own_cluster.stop("fast")
        down.set()
        assert ready(d) == 503
        status, body = _post(d, "/carriers/loopback/inbound", {"from": phone(1), "body": "YES",
                                                                "message_id": "LBIN-during-outage"})
        assert status == 503, (status, body)
        time.sleep(2.0)  # down a while: the sender and the receiver keep trying
        assert ready(d) == 503
        own_cluster.start()
        back = time.monotonic()
        wait_until(lambda: ready(d) == 200, "/readyz 200 again", 20)
        reconnected = time.monotonic() - back
        receiver.join(60)
        assert not receiver.is_alive()
        committed = ALARMS * CONTACTS
        rows = wait_until(lambda: (r := loopback_sent(d)) and len({x["outbound_id"] for x in r}) >= committed and r,
                          f"all {committed} texts handed to the carrier", 60)
        # The inbound text refused while down was not recorded: sent again now, it is new, not a duplicate.
        status, body = _post(d, "/carriers/loopback/inbound", {"from": phone(1), "body": "YES",
                                                                "message_id": "LBIN-during-outage"})
        assert status == 200 and body["duplicate"] is False, body
        assert d.stop() == 0
        log = d.log.read_text()
    finally:
        d.close()
    copies = collections.Counter(r["outbound_id"] for r in rows)
    twice = sum(n - 1 for n in copies.values())
    wanted = {(f"evt_{n}", phone(c)) for n in range(ALARMS) for c in range(CONTACTS)}
    got = {(EVENT.search(r["body"]).group(1), r["to"]) for r in rows}
    print(f"\nPostgreSQL restart mid-burst: reconnected {reconnected:.2f} s after the server was back; "
          f"answers {dict(statuses)}; {len(copies)} texts sent, {twice} twice")
    assert got == wanted  # nothing committed lost
    assert statuses[503] + statuses[0] > 0  # the receiver did meet the outage
    assert reconnected < 10
    assert twice <= IN_FLIGHT  # only sends whose outcome could not be recorded when the server went away
    assert " 500 " not in log and "Traceback" not in log, log[-3000:]
