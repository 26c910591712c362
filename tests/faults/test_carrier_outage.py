"""Fault 2: the carrier goes away during a burst (the fake Twilio answers 503, then stops answering in time),
then comes back.

Nothing is lost; every retry waits its backoff, counted from the failure; when the carrier returns the
backlog goes out at the sender's pace, alarm texts before notices; texts whose validity ran out meanwhile
are not sent and are logged (SMSSTALE). bench/faults.py runs the long version (60 s).
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass
from pathlib import Path

from tests.daemon import Daemon
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, Answer, fake_twilio_in_a_thread
from tests.faults.harness import Figures, call, event_log, outbox_depth, seed_site, wait_until

RATE = 20  # texts (one segment each) per second from our one sender number
BACKOFF_BASE, BACKOFF_MAX, REQUEST_TIMEOUT = 0.4, 0.8, 0.3
SHORT = "Short check at Main Office: reply YES"  # the verification that outlives its validity in the outage
SHORT_TIMEOUT = 10  # seconds: the shortest the API takes


@dataclass
class OutageRun:
    figures: Figures
    gaps: list[tuple[float, float]]  # (seconds between two tries of one text, the least its backoff allows)
    accepted: list[tuple[float, str]]  # (fake's clock, kind) of each text taken after the carrier came back
    stale: set[str]  # verification ids logged SMSSTALE
    short_ids: set[str]
    tries: int
    log: str


def run(tmp: Path, *, refusing: float = 2.5, silent: float = 3.0, contacts: int = 20, dispatches: int = 3,
        short: int = 5) -> OutageRun:
    """503s for ``refusing`` s, then answers too late for ``silent`` s (more if the short verification has not
    expired yet); a burst of ``dispatches`` notices to every contact and one alarm arrives during the silence."""
    with fake_twilio_in_a_thread() as (fake, _):
        d = Daemon(tmp, carrier={"backend": "twilio", "from_number": TWILIO_NUMBER, "twilio": {
            "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "api_base_url": fake.url, "max_per_second": RATE,
            "request_timeout_seconds": REQUEST_TIMEOUT}},
            outbox={"backoff_base_seconds": BACKOFF_BASE, "backoff_max_seconds": BACKOFF_MAX, "max_attempts": 1000})
        try:
            site = seed_site(d, contacts)
            d.start()
            down = time.monotonic()
            fake.always = Answer(status=503, message="Service Unavailable")
            status, body = call(d, "POST", "/ext/v1/verifications", {
                "site_id": site, "contacts": list(range(1, short + 1)), "method": "sms", "message": SHORT,
                "timeout_seconds": SHORT_TIMEOUT})
            assert status == 200, body
            short_ids = {body["data"]["verification_id"]}
            time.sleep(max(0.0, down + refusing - time.monotonic()))
            fake.always = Answer(status=503, delay=REQUEST_TIMEOUT * 5)  # the gateway gives up first
            silent_from = time.monotonic()
            for n in range(dispatches):
                status, body = call(d, "POST", "/ext/v1/dispatches", {
                    "site_id": site, "contacts": ["all"], "template": "police-dispatched",
                    "variables": {"reference": f"R{n}"}})
                assert status == 201, body
            status, body = call(d, "POST", "/ext/v1/events", {"site_id": site, "event_code": "BA", "event_id": "evt_1"})
            assert status == 201, body
            time.sleep(max(0.0, down + max(refusing + silent, SHORT_TIMEOUT + 0.5) - time.monotonic()))
            fake.always = None
            up = time.monotonic()
            expected = contacts * (dispatches + 1)
            wait_until(lambda: len(fake.received) >= expected and outbox_depth(d) == 0,
                       f"{expected} texts taken and nothing left in the outbox", 60)
            stale = {r["verification_id"] for r in event_log(d, site, "SMSSTALE")}
            assert d.stop() == 0
        finally:
            d.close()
        tried, received = list(fake.tried), list(fake.received)
    copies = collections.Counter((r.to, r.body) for r in received)
    late = sum(SHORT in body for _, body in copies)
    gaps = _gaps(tried, up, silent_from)
    accepted = [(r.at, _kind(r.body)) for r in received if r.at >= up]
    kinds = [kind for _, kind in accepted]
    figures = Figures(f"carrier outage {up - down:.0f} s (503, then timeouts)", sent=len(copies),
                      lost=expected - (len(copies) - late), duplicated=sum(copies.values()) - len(copies), late=late,
                      note=f"{len([t for t in tried if t.at < up])} tries in the outage, "
                           f"{sum(gap < least - 0.1 for gap, least in gaps)} sooner than the backoff; on return at most "
                           f"{windows([at for at, _ in accepted], 1.0)} texts in 1 s (pace {RATE}/s), the last alarm text "
                           f"{_last(kinds, 'alarm') + 1}th of {len(kinds)}; {len(stale)} SMSSTALE verification "
                           f"({short} texts)")
    return OutageRun(figures, gaps, accepted, stale, short_ids, len(tried), d.log.read_text())


def _last(kinds: list[str], kind: str) -> int:
    return len(kinds) - 1 - kinds[::-1].index(kind)


def _kind(body: str) -> str:
    return "alarm" if "ALARM at" in body else "notice"


def _gaps(tried, up: float, silent_from: float) -> list[tuple[float, float]]:
    """For each try in the outage after the first of its text: the time since the one before and the least
    wait the backoff allows after that one (and a call that timed out lasts the request timeout first)."""
    by_text = collections.defaultdict(list)
    for t in tried:
        if t.at < up:
            by_text[(t.to, t.body)].append(t.at)
    gaps = []
    for times in by_text.values():
        for n, (before, after) in enumerate(zip(times, times[1:]), start=1):
            least = 0.5 * min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (n - 1))  # the jitter takes off at most half
            gaps.append((after - before, least + (REQUEST_TIMEOUT if before >= silent_from else 0.0)))
    return gaps


def windows(times: list[float], seconds: float) -> int:
    """The most of ``times`` within any ``seconds``."""
    times = sorted(times)
    return max((sum(1 for t in times[i:] if t < start + seconds) for i, start in enumerate(times)), default=0)


def test_a_carrier_outage_loses_nothing_backs_off_and_sends_alarms_first_at_the_pace(tmp_path):
    result = run(tmp_path)
    figures = result.figures
    assert figures.lost == 0 and figures.duplicated == 0 and figures.late == 0, figures
    assert result.stale == result.short_ids, (result.stale, result.short_ids)  # given up on and logged, not sent
    slack = 0.1  # between the gateway's clock at a call and the fake's at its arrival
    short_waits = [(gap, least) for gap, least in result.gaps if gap < least - slack]
    assert len(result.gaps) > 20 and not short_waits, short_waits[:5]
    # when it returns: at most one bucketful (rate x 0.1 s, at least 1) plus the rate, per second
    assert windows([at for at, _ in result.accepted], 1.0) <= RATE + max(1, RATE // 10) + 2, figures
    kinds = [kind for _, kind in result.accepted]
    # alarm texts first: only those in flight or due sooner (backoff and a request timeout's worth at the pace)
    # go out ahead of the last one
    last_alarm = _last(kinds, "alarm")
    assert last_alarm < kinds.count("alarm") + 8 + RATE * (BACKOFF_MAX + REQUEST_TIMEOUT), kinds
    assert result.log.count("Traceback") == 0
