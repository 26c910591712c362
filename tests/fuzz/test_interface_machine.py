"""The SMS interface's PIN, session and lockout rules (gateway/core/interface/auth.py) as a state machine.

Hypothesis drives two phones through the same texts on a moved clock: one logs in with the real PIN, its twin
with the duress PIN. Each phone's own rows come back to it as the event log its STATUS and EVENTS read.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gateway.clock import ManualClock
from gateway.config import Interface
from gateway.core.interface import Access, decide_interface
from gateway.core.interface.auth import LOCKED_OUT, PIN_EXPIRED, PIN_REFUSED, session_open
from gateway.core.interface.shown import hidden_codes
from gateway.core.pin import PinCheck
from gateway.model import Contact, Decision, InterfaceState, LogRow, Site
from tests.fuzz.budget import examples

START = datetime(2026, 1, 15, 10, 30, tzinfo=timezone.utc)
PHONE = "+15550004444"
WORDS = st.sampled_from(["", "STATUS", "STATUS 1", "EVENTS 20", "EVENTS 1 3", "SITES", "HELP", "HELP TEST",
                         "TEST 1 30", "UNTEST 1", "LOGOUT", "FOO", "status"])
PIN_SENT = st.sampled_from(["none", "right", "wrong", "shed"])  # shed: too many checks at once, nothing checked
MINUTE = 60


class Phone:
    """One phone's view: its interface state, its site (TEST changes it) and the rows logged about it."""

    def __init__(self) -> None:
        self.state: InterfaceState | None = None
        self.site = Site(id="site_a", dealer_id="1", name="Main Office", created_at=START)
        self.rows: list[LogRow] = []

    def text(self, words: str, check: PinCheck, contact: Contact, config: Interface, now: datetime) -> Decision:
        hidden = set(hidden_codes(config))
        shown = [r for r in reversed(self.rows) if r.site_id == self.site.id and r.code not in hidden]
        access = Access(contact=contact, sites=[self.site], state=self.state,
                        events={self.site.id: shown[:config.max_events]})
        decision = Decision()
        self.state = decide_interface(decision, words, check, access, config, now,
                                      dict(at=now, phone=PHONE, trace_id=None))
        for change in decision.site_tests:
            self.site = msgspec.structs.replace(self.site, on_test_until=change.until)
        self.rows += [LogRow(id=len(self.rows) + i, **msgspec.structs.asdict(e)) for i, e in enumerate(decision.log, 1)]
        return decision


class InterfaceMachine(RuleBasedStateMachine):
    @initialize(failures=st.integers(1, 6), window=st.integers(1, 30), lockout=st.integers(1, 90),
                session=st.integers(1, 30), expires_in=st.none() | st.integers(1, 600))
    def start(self, failures, window, lockout, session, expires_in):
        self.clock = ManualClock(START)
        self.config = Interface(max_pin_failures=failures, pin_failure_window_minutes=window, lockout_minutes=lockout,
                                session_minutes=session)
        self.contact = Contact(id=1, site_id="site_a", first_name="Ann", last_name="Lee", phone=PHONE,
                               pin_hash="$argon2id$real", duress_pin_hash="$argon2id$duress", on_test_permission=True,
                               pin_expires_at=START + timedelta(minutes=expires_in) if expires_in else None,
                               created_at=START)
        self.real, self.duress = Phone(), Phone()
        # The rule as README states it: wrong PINs count from the first one of a window; the number is locked
        # at the max_pin_failures-th within it, for lockout_minutes; a correct PIN clears the count.
        self.wrong: list[datetime] = []
        self.locked_until: datetime | None = None
        self.logged_in_at: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    @rule(seconds=st.one_of(st.integers(0, 3 * 3600), st.sampled_from([1, 59, 60])), minutes=st.sampled_from(
        ["session_minutes", "pin_failure_window_minutes", "lockout_minutes", None]), nudge=st.sampled_from([-1, 0, 1]))
    def wait(self, seconds, minutes, nudge):
        """Move the clock, often to just before, at or just after one of the rule's limits."""
        self.clock.advance(seconds=max(0, getattr(self.config, minutes) * MINUTE + nudge) if minutes else seconds)

    @rule(words=WORDS, sent=PIN_SENT)
    def text(self, words, sent):
        now = self.clock.now()
        if self.locked_until and now >= self.locked_until:
            self.locked_until, self.wrong = None, []
        if self.wrong and now - self.wrong[0] > timedelta(minutes=self.config.pin_failure_window_minutes):
            self.wrong = []
        was_open = session_open(Access(contact=self.contact, state=self.real.state), now)
        locked = self.locked(now)
        checks = {"none": (PinCheck.ABSENT,) * 2, "right": (PinCheck.VALID, PinCheck.DURESS),
                  "wrong": (PinCheck.WRONG,) * 2, "shed": (PinCheck.SHED,) * 2}[sent]
        # Nothing is checked in a lockout (the service sends no PIN on); the interface must refuse any anyway.
        real = self.real.text(words, checks[0], self.contact, self.config, now)
        duress = self.duress.text(words, checks[1], self.contact, self.config, now)

        assert real.replies == duress.replies, "a duress login must look like a real one"
        assert [r.code for r in real.log] == [r.code for r in duress.log if r.code != self.config.codes.duress]
        now_open = session_open(Access(contact=self.contact, state=self.real.state), now)
        expired = self.contact.pin_expires_at is not None and self.contact.pin_expires_at <= now
        if locked:
            assert real.replies == [LOCKED_OUT] and real.log == [] and not (now_open and not was_open)
            return
        if sent == "wrong":
            self.wrong.append(now)
            if len(self.wrong) >= self.config.max_pin_failures:
                self.locked_until = now + timedelta(minutes=self.config.lockout_minutes)
                assert real.replies == [LOCKED_OUT]
                assert [r.code for r in real.log].count(self.config.codes.lockout) == 1
            else:
                assert real.replies == [PIN_REFUSED]
        elif sent == "shed":
            assert real.replies == [PIN_REFUSED]
        elif sent == "right" and expired:
            assert real.replies == [PIN_EXPIRED]
        elif sent == "right":
            self.wrong, self.logged_in_at = [], now
        if self.config.codes.logout in [r.code for r in real.log]:  # "LOGOUT 4821" logs in and out
            self.logged_in_at = None
            assert not now_open
        elif sent == "right" and not expired:
            assert now_open
        if now_open and not was_open:
            assert sent == "right" and not expired, "a session opened without a valid PIN"

    @invariant()
    def lockout_agrees(self):
        now = self.clock.now()
        for phone in (self.real, self.duress):
            interface_locked = bool(phone.state and phone.state.locked_until and phone.state.locked_until > now)
            assert interface_locked == self.locked(now)

    @invariant()
    def sessions_last_session_minutes_from_a_valid_pin(self):
        now = self.clock.now()
        for phone in (self.real, self.duress):
            if session_open(Access(contact=self.contact, state=phone.state), now):
                assert self.logged_in_at and now < self.logged_in_at + timedelta(minutes=self.config.session_minutes)


InterfaceMachine.TestCase.settings = settings(examples(100), stateful_step_count=30)
test_interface_rules = InterfaceMachine.TestCase
