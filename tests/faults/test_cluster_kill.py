"""Fault: three daemons on one PostgreSQL, a burst of alarm texts posted across them, one daemon SIGKILLed
in the middle of it.

Every text reaches the (loopback) carrier: the killed daemon's claims are taken over by the others once its
lease runs out. Texts sent twice are at most those the killed daemon held claimed at its death (counted from
the outbox right after the kill); none is sent after its validity. bench/cluster_kill.py runs 3,000 texts.
"""

from __future__ import annotations

import collections
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import storage
from tests.daemon import Daemon
from tests.faults.harness import (
    DOWN, call, close_all, cluster, event_log, loopback_sent, phone, seed_site, start_all, wait_until,
)

IN_FLIGHT = 8
LEASE_SECONDS = 3  # how soon the others take over the dead daemon's claims
EVENT = re.compile(r"burst (evt_\d+)")


@dataclass
class ClusterKill:
    committed: int
    sent: int  # distinct texts the carrier got
    lost: int
    twice: int  # extra copies
    held_by_killed: int  # messages the killed daemon had claimed ('sending') when it died
    late: int
    sent_at_kill: int
    takeover_seconds: float  # from the kill until the last of its claims was sent by another daemon
    seconds: float
    log: str

    def line(self) -> str:
        return (f"3 daemons, 1 SIGKILLed at {self.sent_at_kill}/{self.committed} sent: {self.sent} sent, "
                f"{self.lost} lost, {self.twice} twice (killed daemon held {self.held_by_killed} claimed), "
                f"{self.late} late; its claims taken over within {self.takeover_seconds:.1f} s; "
                f"burst done in {self.seconds:.1f} s")


def run(tmp: Path, url: str, *, alarms: int, contacts: int = 50, latency: float = 0.02,
        kill_after: float = 0.5) -> ClusterKill:
    """``alarms`` alarms (one text per contact each) posted round-robin to three daemons; daemon 1 killed with
    SIGKILL ``kill_after`` seconds after the first text reached the carrier."""
    daemons = cluster(tmp, url, 3, carrier={"loopback_latency_seconds": latency},
                      outbox={"max_in_flight": IN_FLIGHT, "sending_lease_seconds": LEASE_SECONDS})
    victim = daemons[1]
    committed = alarms * contacts
    timeouts: dict[str, str] = {}
    try:
        site = seed_site(url, contacts)
        start_all(daemons)
        started = time.monotonic()
        posters = [threading.Thread(target=_post_alarms, args=(daemons, victim, site, range(k, alarms, 3), timeouts),
                                    name=f"alarms-{k}") for k in range(3)]  # three receivers: the burst comes fast
        for poster in posters:
            poster.start()
        wait_until(lambda: call(daemons[0], "GET", "/carriers/loopback/outbox?limit=1")[1]["messages"],
                   "the burst under way", 60)
        time.sleep(kill_after)
        victim.kill()
        killed = time.monotonic()
        sent_at_kill = len({r["outbound_id"] for r in loopback_sent(daemons[0])})
        prefix = f"{socket.gethostname()}:{victim.proc.pid}:"
        held = {r["id"] for r in storage.rows(url, "outbound_messages")
                if r["status"] == "sending" and (r["claimed_by"] or "").startswith(prefix)}
        for poster in posters:
            poster.join(120)
            assert not poster.is_alive(), "the alarms were not all taken"
        rows = wait_until(lambda: _all_sent(daemons[0], committed), f"{committed} texts handed to the carrier", 120)
        seconds = time.monotonic() - started
        taken_over = [r for r in rows if r["outbound_id"] in held]
        takeover = max((_since(r["sent_at"], killed) for r in taken_over), default=0.0)
        late = sum(r["sent_at"] > timeouts[EVENT.search(r["body"]).group(1)] for r in rows)
        log = "".join(d.log.read_text() for d in daemons if d is not victim)
        for d in daemons:
            if d is not victim:
                assert d.stop() == 0
    finally:
        close_all(daemons)
    copies = collections.Counter(r["outbound_id"] for r in rows)
    got = {(EVENT.search(r["body"]).group(1), r["to"]) for r in rows}
    wanted = {(f"evt_{n}", phone(c)) for n in range(alarms) for c in range(contacts)}
    return ClusterKill(committed=committed, sent=len(copies), lost=len(wanted - got),
                       twice=sum(n - 1 for n in copies.values()), held_by_killed=len(held), late=late,
                       sent_at_kill=sent_at_kill, takeover_seconds=takeover, seconds=seconds, log=log)


def _post_alarms(daemons: list[Daemon], victim: Daemon, site: str, alarms: range, timeouts: dict[str, str]) -> None:
    """Round-robin over the daemons; one that does not answer is skipped for the next (as a balancer does)."""
    for n in alarms:
        event_id = f"evt_{n}"
        for attempt in range(3 * len(daemons)):
            d = daemons[(n + attempt) % len(daemons)]
            if d is victim and d.proc.poll() is not None:
                continue
            try:
                status, body = call(d, "POST", "/ext/v1/events", {"site_id": site, "event_code": "BA",
                                                                  "event_id": event_id, "text": f"burst {event_id}"},
                                    seconds=0)
            except DOWN:
                continue
            if status == 201:
                timeouts[event_id] = body["data"]["verifications"][0]["timeout_at"]
                break
            if status == 200:  # taken by a daemon killed before it answered: read its validity back
                timeouts[event_id] = _timeout_of(daemons[0], site, event_id)
                break
            raise AssertionError((status, body))
        else:
            raise AssertionError(f"no daemon took {event_id}")


def _timeout_of(d: Daemon, site: str, event_id: str) -> str:
    sent = wait_until(lambda: [r for r in event_log(d, site, "SMSSENT") if r["event_id"] == event_id],
                      f"the verification of {event_id}", 30)
    status, body = call(d, "GET", f"/ext/v1/verifications/{sent[0]['verification_id']}")
    assert status == 200, body
    return body["data"]["timeout_at"]


def _all_sent(d: Daemon, committed: int) -> list[dict] | None:
    rows = loopback_sent(d)
    return rows if len({r["outbound_id"] for r in rows}) >= committed else None


def _since(sent_at: str, killed_monotonic: float) -> float:
    """Seconds from the kill (monotonic) to a row's sent_at (UTC ISO): through the wall clock now."""
    from gateway.clock import parse_isoformat

    wall_at_kill = time.time() - (time.monotonic() - killed_monotonic)
    return parse_isoformat(sent_at).timestamp() - wall_at_kill


@pytest.mark.postgres
def test_a_daemon_killed_mid_burst_loses_nothing_and_doubles_at_most_what_it_held(tmp_path, pg_url):
    result = run(tmp_path, pg_url, alarms=8)
    print("\n" + result.line())
    assert result.sent_at_kill < result.committed, result.line()  # the kill caught the burst under way
    assert result.lost == 0 and result.sent == result.committed == 400, result.line()
    assert result.twice <= result.held_by_killed <= IN_FLIGHT, result.line()
    assert result.late == 0, result.line()
    assert result.takeover_seconds < LEASE_SECONDS + 10, result.line()
    assert "Traceback" not in result.log
