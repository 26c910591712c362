"""Fault 4: the daemon is stopped (SIGSTOP) for longer than the outbox lease, then continued (SIGCONT).

On SQLite one daemon serves the database, so nobody takes its claims over while it sleeps; when it wakes,
the leases of the sends it had in flight (carrier calls, turns in the sender's pace) have run out. It must
finish those and not claim them again as if their sender had died. The one window: a carrier call in flight
at the stop outlives ``carrier.twilio.request_timeout_seconds``, times out when the process wakes although
Twilio answered meanwhile, and is retried, so that text goes twice (README "What survives what").
"""

from __future__ import annotations

import collections
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from tests.daemon import Daemon
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, Answer, fake_twilio_in_a_thread
from tests.faults.harness import Figures, call, event_log, outbox_depth, seed_site, wait_until

IN_FLIGHT = 8
TIMED_OUT = re.compile(r"outbox \d+ to (\+\d+): Twilio did not answer")
LEASE = 2  # seconds


@dataclass
class StopRun:
    figures: Figures
    committed: int
    sent_during_stop: int  # what the fake had received by the end of the stop
    stale: int
    log: str
    duplicated_to: collections.Counter  # numbers that got a text twice
    timed_out_to: collections.Counter  # numbers whose carrier call the daemon saw time out


def run(tmp: Path, *, stopped: float = 3.0, contacts: int = 16, alarms: int = 1, rate: float = 8) -> StopRun:
    """A burst of ``alarms`` x ``contacts`` texts to the fake Twilio at ``rate`` texts/s; SIGSTOP in the middle of
    it for ``stopped`` s (longer than the lease), SIGCONT, and count what the carrier got."""
    with fake_twilio_in_a_thread() as (fake, _):
        return _run(tmp, fake, stopped, contacts, alarms, rate)


def _run(tmp, fake, stopped, contacts, alarms, rate) -> StopRun:
    d = Daemon(tmp, carrier={"backend": "twilio", "from_number": TWILIO_NUMBER, "twilio": {
        "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "api_base_url": fake.url, "max_per_second": rate,
        "request_timeout_seconds": 1.0}}, outbox={"max_in_flight": IN_FLIGHT, "sending_lease_seconds": LEASE})
    fake.always = Answer(delay=0.3)  # a few sends are always in flight, so the stop catches some mid-call
    try:
        site = seed_site(d, contacts)
        d.start()
        for n in range(alarms):
            status, body = call(d, "POST", "/ext/v1/events", {"site_id": site, "event_code": "BA",
                                                              "event_id": f"evt_{n}", "text": f"stop evt_{n}"})
            assert status == 201, body
        committed = alarms * contacts
        wait_until(lambda: len(fake.received) >= 2, "the burst under way")
        d.signal(signal.SIGSTOP)
        time.sleep(stopped)
        sent_during_stop = len(fake.received)
        d.signal(signal.SIGCONT)
        wait_until(lambda: len({_text(r) for r in fake.received}) >= committed and outbox_depth(d) == 0,
                   f"{committed} texts sent and nothing left in the outbox", 60)
        stale = len(event_log(d, site, "SMSSTALE"))
        assert d.stop() == 0
    finally:
        d.close()
    copies = collections.Counter(_text(r) for r in fake.received)
    log = d.log.read_text()
    duplicated = collections.Counter({to: n - 1 for (to, _), n in copies.items() if n > 1})
    timed_out = collections.Counter(TIMED_OUT.findall(log))
    figures = Figures(f"SIGSTOP {stopped:g} s (lease {LEASE} s), SIGCONT", sent=len(copies),
                      lost=committed - len(copies), duplicated=sum(copies.values()) - len(copies), late=0,
                      note=f"{committed} texts at {rate:g}/s; {timed_out.total()} calls in flight at the stop timed out "
                           f"as it woke (Twilio had taken them) and went again; "
                           f"{(duplicated - timed_out).total() or 'no'} other text(s) twice")
    return StopRun(figures, committed, sent_during_stop, stale, log, duplicated, timed_out)


def _text(received) -> tuple[str, str]:
    return received.to, received.body


def test_a_stopped_daemon_resumes_its_own_sends_and_doubles_only_calls_that_timed_out_at_the_stop(tmp_path):
    result = run(tmp_path)
    figures = result.figures
    assert figures.lost == 0 and figures.sent == result.committed, figures
    # every second copy is a call that was in flight at the stop and timed out as the daemon woke
    assert not result.duplicated_to - result.timed_out_to, (figures, result.duplicated_to, result.timed_out_to)
    assert result.timed_out_to.total() <= IN_FLIGHT, result.timed_out_to
    assert result.stale == 0 and "Traceback" not in result.log
