"""The SMS interface's state machine, text by text on a moved clock: sessions, PINs, lockout, duress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from msgspec.structs import replace

from gateway.config import Interface
from gateway.core.interface import Access, claims, decide_interface
from gateway.core.interface.auth import LOCKED_OUT, PIN_EXPIRED, PIN_REFUSED
from gateway.core.pin import PinCheck
from gateway.model import Decision, InterfaceState
from tests.core.records import GINA, GINAS_SITES, PHONE

CONFIG = Interface()
SITES_REPLY = "1 Main Office\n2 Main Warehouse\n3 Depot"


class Phone:
    """One number texting the interface, its state carried from text to text as the store carries it.

    ``pin`` is what checking the PIN the text ends with found (the inbound service's argon2 work).
    """

    def __init__(self, clock, contact=GINA) -> None:
        self.clock, self.contact, self.state = clock, contact, None
        self.log = []

    def text(self, words: str, pin: PinCheck = PinCheck.ABSENT) -> list[str]:
        decision = Decision()
        access = Access(contact=self.contact, sites=GINAS_SITES if self.contact else [], state=self.state)
        self.state = decide_interface(decision, words, pin, access, CONFIG, self.clock.now(),
                                      {"at": self.clock.now(), "phone": PHONE, "trace_id": None})
        self.log += decision.log
        return decision.replies

    def codes(self) -> list[str]:
        return [entry.code for entry in self.log]


@pytest.fixture
def gina(clock) -> Phone:
    return Phone(clock)


def test_a_pin_alone_opens_a_session_for_session_minutes(gina):
    assert gina.text("", PinCheck.VALID) == ["PIN accepted until 09:45 CST. Text HELP for commands."]
    assert gina.codes() == ["SMSLOGIN"] and gina.log[0].contact_id == GINA.id
    assert gina.state.session_contact_id == GINA.id
    assert gina.text("SITES") == [SITES_REPLY]  # no PIN needed inside it


def test_a_command_waits_for_the_pin_and_is_forgotten_after_a_while(gina, clock):
    assert gina.text("STATUS 2") == ["Send your PIN to run STATUS."]
    assert gina.text("", PinCheck.VALID) == ["Main Warehouse: not on test."]
    assert gina.codes() == ["SMSLOGIN", "SMSCMDSTAT"]
    gina.text("LOGOUT")
    gina.text("SITES")
    clock.advance(CONFIG.pending_command_seconds)
    assert gina.text("", PinCheck.VALID)[0].startswith("PIN accepted until")  # SITES was forgotten


def test_the_session_ends_when_its_time_is_up_however_busy(gina, clock):
    gina.text("SITES", PinCheck.VALID)
    clock.advance(minutes=CONFIG.session_minutes - 1)
    gina.text("SITES")  # used, not extended
    clock.advance(59)
    assert gina.text("SITES") == [SITES_REPLY]
    clock.advance(1)
    assert gina.text("SITES") == ["Send your PIN to run SITES."]


def test_logout_ends_the_session(gina):
    gina.text("", PinCheck.VALID)
    assert gina.text("LOGOUT") == ["Logged out."]
    assert gina.text("LOGOUT") == ["You are not logged in."]
    assert gina.text("SITES") == ["Send your PIN to run SITES."]


def test_a_wrong_pin_gets_the_answer_a_stranger_or_a_contact_without_pin_gets(clock):
    gina, stranger = Phone(clock), Phone(clock, contact=None)
    assert gina.text("STATUS", PinCheck.WRONG) == stranger.text("STATUS", PinCheck.UNCHECKED) == [PIN_REFUSED]
    assert [(e.code, e.comment, e.contact_id) for e in gina.log + stranger.log] == [
        ("SMSBADPIN", "Wrong PIN (1)", GINA.id), ("SMSBADPIN", "Wrong PIN (1)", None)]
    assert gina.state.session_contact_id is None


def test_wrong_pins_lock_the_number_out_until_the_lockout_ends(gina, clock):
    for _ in range(CONFIG.max_pin_failures - 1):
        assert gina.text("SITES", PinCheck.WRONG) == [PIN_REFUSED]
    assert gina.text("SITES", PinCheck.WRONG) == [LOCKED_OUT]
    assert gina.log[-1].comment == "Locked for 30 min after 5 wrong PINs"
    assert gina.codes().count("SMSLOCKOUT") == 1
    clock.advance(minutes=CONFIG.lockout_minutes - 1)
    logged = len(gina.log)
    assert gina.text("SITES", PinCheck.VALID) == gina.text("HELP") == [LOCKED_OUT]  # one fixed answer, nothing logged
    assert len(gina.log) == logged
    clock.advance(minutes=1)
    assert gina.text("SITES", PinCheck.VALID) == [SITES_REPLY]
    assert gina.state.failures == 0


def test_wrong_pins_outside_the_window_do_not_add_up(gina, clock):
    for _ in range(CONFIG.max_pin_failures - 1):
        gina.text("SITES", PinCheck.WRONG)
    clock.advance(minutes=CONFIG.pin_failure_window_minutes, seconds=1)
    assert gina.text("SITES", PinCheck.WRONG) == [PIN_REFUSED]
    assert gina.log[-1].comment == "Wrong PIN (1)"


def test_a_correct_pin_clears_the_failures(gina):
    gina.text("SITES", PinCheck.WRONG)
    gina.text("SITES", PinCheck.VALID)
    assert gina.state.failures == 0 and gina.state.failures_since is None


def test_an_expired_pin_is_refused_and_logged(clock):
    gina = Phone(clock, contact=replace(GINA, pin_expires_at=clock.now() + timedelta(minutes=1)))
    assert gina.text("", PinCheck.VALID)[0].startswith("PIN accepted until")
    gina.text("LOGOUT")
    gina.log.clear()
    clock.advance(minutes=1)
    assert gina.text("SITES", PinCheck.VALID) == [PIN_EXPIRED]
    assert [(e.code, e.comment) for e in gina.log] == [("SMSPINEXP", "PIN expired")]
    assert gina.state.session_contact_id is None


def test_a_pin_not_checked_in_a_flood_is_refused_and_not_counted(gina):
    assert gina.text("SITES", PinCheck.SHED) == [PIN_REFUSED]
    assert [(e.code, e.comment) for e in gina.log] == [("SMSBADPIN", "PIN not checked (too many at once)")]
    assert gina.state.failures == 0


def test_the_duress_pin_gets_every_reply_the_real_pin_gets(clock):
    conversation = [("STATUS", None), ("SITES", None), ("HELP", None), ("TEST 1 30", None), ("UNTEST 1", None),
                    ("LOGOUT", None), ("EVENTS 2", "pin")]
    real, duress = Phone(clock), Phone(clock)
    for words, pin in [("", "pin"), *conversation]:
        assert real.text(words, PinCheck.VALID if pin else PinCheck.ABSENT) == \
            duress.text(words, PinCheck.DURESS if pin else PinCheck.ABSENT), words
    assert duress.codes().count("DURESS") == 2  # logged at each duress login, for the station only
    assert [c for c in duress.codes() if c != "DURESS"] == real.codes()
    alert = duress.log[0]
    assert (alert.code, alert.details, alert.contact_id) == ("DURESS", {"priority": "high"}, GINA.id)
    commands = [e for e in duress.log if e.code.startswith("SMSCMD")]
    assert commands and all(e.details["duress"] is True for e in commands)
    assert not any(e.details and e.details.get("duress") for e in real.log)


def test_help_inside_a_duress_session_is_flagged_like_every_command(clock):
    duress, real = Phone(clock), Phone(clock)
    duress.text("", PinCheck.DURESS)
    real.text("", PinCheck.VALID)
    assert duress.text("HELP TEST") == real.text("HELP TEST")  # the phone sees nothing of it
    assert duress.log[-1].code == "SMSCMDHELP" and (duress.log[-1].details or {}).get("duress") is True
    assert real.log[-1].code == "SMSCMDHELP" and not real.log[-1].details
    clock.advance(minutes=Interface().session_minutes)  # the session over, HELP is no longer one of its commands
    duress.text("HELP")
    assert duress.log[-1].code == "SMSCMDHELP" and not duress.log[-1].details


def test_help_needs_no_pin(gina):
    assert gina.text("HELP") == ["Commands: EVENTS site [n], LOGOUT, SITES, STATUS [site], TEST site minutes, "
                                 "UNTEST site. Add your PIN at the end. HELP cmd for more."]
    assert gina.codes() == ["SMSCMDHELP"] and gina.state.session_contact_id is None


@pytest.mark.parametrize("words, pin, state, verification_open, claimed", [
    ("STATUS", PinCheck.ABSENT, None, True, True),  # a command word, whatever is open
    ("", PinCheck.VALID, None, False, True),  # a PIN alone logs in
    ("", PinCheck.VALID, None, True, False),  # ... unless it answers an open verification
    ("", PinCheck.VALID, "pending", True, True),  # ... or runs the command waiting for it
    ("on my way", PinCheck.ABSENT, "session", False, True),  # anything inside a session
    ("on my way", PinCheck.ABSENT, "session", True, False),  # ... but an answer to an open verification
    ("on my way", PinCheck.ABSENT, None, False, False),
])
def test_what_the_interface_claims(clock, words, pin, state, verification_open, claimed):
    now = clock.now()
    states = {None: None,
              "pending": InterfaceState(phone=PHONE, pending_command="SITES", pending_until=now + timedelta(seconds=1)),
              "session": InterfaceState(phone=PHONE, session_contact_id=GINA.id,
                                        session_expires_at=now + timedelta(minutes=1))}
    access = Access(contact=GINA, sites=GINAS_SITES, state=states[state])
    assert claims(words, pin, access, now, verification_open=verification_open) is claimed
