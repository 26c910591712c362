"""Fault 1: kill -9 at random moments of a burst, again and again, with restarts in between.

Every committed text reaches the carrier; a text goes twice only when the kill caught it between the carrier
taking it and the outbox recording that (at most ``outbox.max_in_flight`` per kill); none goes after its
validity. bench/faults.py runs the long version (10 kills).
"""

from __future__ import annotations

import collections
import random
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from gateway.clock import Clock, isoformat
from tests.daemon import Daemon
from tests.faults.harness import Figures, call, event_log, loopback_sent, phone, seed_site, wait_until

IN_FLIGHT = 8
EVENT = re.compile(r"burst (evt_\d+)")


@dataclass
class KillRun:
    figures: Figures
    committed: int
    kills: list[float] = field(default_factory=list)  # the daemon's clock (UTC ISO) at each kill
    duplicates_per_kill: list[int] = field(default_factory=list)
    sent_before_kill: list[int] = field(default_factory=list)  # distinct texts the carrier had by each kill
    stale: int = 0
    log: str = ""


def run(tmp: Path, *, kills: int, contacts: int = 50, alarms: int = 20, latency: float = 0.02,
        between: tuple[float, float] = (0.05, 0.4), seed: int = 12) -> KillRun:
    """Post ``alarms`` alarms to a site of ``contacts`` (one text each) and kill -9 the daemon ``kills`` times,
    each ``between`` seconds (seeded) after it came up; then let the last one finish and count."""
    rng = random.Random(seed)
    d = Daemon(tmp, carrier={"loopback_latency_seconds": latency}, outbox={"max_in_flight": IN_FLIGHT})
    try:
        site = seed_site(d, contacts)
        d.start()
        timeouts: dict[str, str] = {}

        def post_alarms() -> None:
            for n in range(alarms):
                event_id = f"evt_{n}"
                status, body = call(d, "POST", "/ext/v1/events", {"site_id": site, "event_code": "BA",
                                                                  "event_id": event_id, "text": f"burst {event_id}"})
                assert status in (200, 201), body  # 200: committed before a kill cut the answer off
                timeouts[event_id] = body["data"]["verifications"][0]["timeout_at"] if status == 201 else ""

        poster = threading.Thread(target=post_alarms, name="alarms")
        poster.start()
        killed_at = []
        for _ in range(kills):
            wait_until(lambda: d.proc.poll() is None, "the daemon running")
            threading.Event().wait(rng.uniform(*between))
            d.kill()
            killed_at.append(_utc_now())
            d.start()
        poster.join(60)
        committed = alarms * contacts
        rows = wait_until(lambda: _all_sent(d, committed), f"{committed} texts handed to the carrier", 90)
        for event_id in [e for e, t in timeouts.items() if not t]:  # its 201 was lost in a kill: ask again
            timeouts[event_id] = _timeout_of(d, site, event_id)
        stale = len(event_log(d, site, "SMSSTALE"))
        assert d.stop() == 0
    finally:
        d.close()
    return _count(rows, committed, timeouts, killed_at, stale, contacts, d.log.read_text())


def _utc_now() -> str:
    return isoformat(Clock().now())


def _all_sent(d: Daemon, committed: int) -> list[dict] | None:
    rows = loopback_sent(d)
    return rows if len({r["outbound_id"] for r in rows}) >= committed else None


def _timeout_of(d: Daemon, site: str, event_id: str) -> str:
    sent = [r for r in event_log(d, site, "SMSSENT") if r["event_id"] == event_id]
    status, body = call(d, "GET", f"/ext/v1/verifications/{sent[0]['verification_id']}")
    assert status == 200, body
    return body["data"]["timeout_at"]


def _count(rows: list[dict], committed: int, timeouts: dict[str, str], kills: list[str], stale: int,
           contacts: int, log: str) -> KillRun:
    copies = collections.defaultdict(list)
    for row in rows:
        copies[row["outbound_id"]].append(row)
    got = {(EVENT.search(r["body"]).group(1), r["to"]) for r in rows}
    wanted = {(event_id, phone(n)) for event_id in timeouts for n in range(contacts)}
    late = sum(r["sent_at"] > timeouts[EVENT.search(r["body"]).group(1)] for r in rows)
    per_kill = [0] * len(kills)
    unexplained = 0  # a second copy with no kill before it
    for sends in copies.values():
        for again in sends[1:]:  # charged to the last kill before this copy went
            before = [k for k, at in enumerate(kills) if at < again["sent_at"]]
            if before:
                per_kill[before[-1]] += 1
            else:
                unexplained += 1
    before = [len({r["outbound_id"] for r in rows if r["sent_at"] < at}) for at in kills]
    figures = Figures("kill -9 under a burst", sent=len(copies), lost=len(wanted - got) + (committed - len(wanted)),
                      duplicated=sum(per_kill) + unexplained, late=late,
                      note=f"{len(kills)} kills at {before} of {committed} sent; copies per kill {per_kill}")
    return KillRun(figures, committed, kills, per_kill, before, stale, log)


def test_repeated_kill_9_under_a_burst_loses_nothing_and_doubles_at_most_the_in_flight(tmp_path):
    result = run(tmp_path, kills=4)
    figures = result.figures
    assert result.sent_before_kill[-1] < result.committed, figures  # every kill caught the burst under way
    assert figures.lost == 0 and figures.sent == result.committed == 1000, figures
    assert all(n <= IN_FLIGHT for n in result.duplicates_per_kill), figures
    assert figures.duplicated == sum(result.duplicates_per_kill), figures  # none without a kill before it
    assert figures.late == 0 and result.stale == 0, figures
    assert "Traceback" not in result.log
