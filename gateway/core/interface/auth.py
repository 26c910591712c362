"""Who may run a command: PINs, sessions, the remembered command, failures and lockout.

A wrong PIN, a PIN from a contact with none set, and any PIN from an unknown number get the
same answer and the same work (the caller checks two argon2 hashes in every case), so the
answer tells a stranger nothing about which numbers are contacts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import msgspec
from msgspec.structs import replace

from gateway.config import Interface
from gateway.core.interface.commands import Commands, Outcome, help_text
from gateway.model import Contact, Decision, InterfaceState, LogEntry, LogRow, Site
from gateway.core.pin import PinCheck, masked

PIN_REFUSED = "PIN not accepted."
LOCKED_OUT = "Too many wrong PINs. Try again later."
PIN_EXPIRED = "Your PIN has expired. Call the central station for a new one."


class Access(msgspec.Struct, frozen=True):
    """What the interface knows about the sender: the contact it answers to (None: no access) and their sites."""

    contact: Contact | None = None
    sites: Sequence[Site] = ()
    state: InterfaceState | None = None
    events: Mapping[str, Sequence[LogRow]] = msgspec.field(default_factory=dict)


def verb_of(words: str) -> tuple[str, list[str]]:
    parts = words.split()
    return (parts[0].upper(), parts[1:]) if parts else ("", [])


def session_open(access: Access, now: datetime) -> bool:
    state = access.state
    return bool(access.contact and state and state.session_contact_id == access.contact.id
                and state.session_expires_at and state.session_expires_at > now)


def claims(words: str, pin: PinCheck, access: Access, now: datetime, verification_open: bool) -> bool:
    """Whether the interface, not the keyword table or the catch-all, answers this text."""
    verb, _ = verb_of(words)
    if verb in Commands.verbs():
        return True
    pending = bool(access.state and access.state.pending_command and access.state.pending_until
                   and access.state.pending_until > now)
    if not words and pin is not PinCheck.ABSENT:
        return pending or not verification_open
    return bool(words) and session_open(access, now) and not verification_open


def _fresh(state: InterfaceState, config: Interface, now: datetime) -> InterfaceState:
    """``state`` with what has run out cleared: an ended lockout, an old failure window, a stale command."""
    if state.locked_until and state.locked_until <= now:
        state = replace(state, locked_until=None, failures=0, failures_since=None)
    if state.failures_since and now - state.failures_since > timedelta(minutes=config.pin_failure_window_minutes):
        state = replace(state, failures=0, failures_since=None)
    if state.pending_until and state.pending_until <= now:
        state = replace(state, pending_command=None, pending_until=None)
    return state


def decide_interface(decision: Decision, words: str, pin: PinCheck, access: Access, config: Interface,
                     now: datetime, base: dict) -> InterfaceState:
    """Add the interface's rows and reply to ``decision``; return the number's new state."""
    state = _fresh(access.state or InterfaceState(phone=base["phone"]), config, now)
    contact = access.contact
    who = dict(contact_id=contact.id if contact else None, site_id=contact.site_id if contact else None, **base)
    verb, args = verb_of(words)
    if state.locked_until:
        decision.replies.append(LOCKED_OUT)  # no PIN is checked while locked out
        return state
    if verb == "HELP" and pin is PinCheck.ABSENT:  # answered without a PIN, but inside a session still one of it
        decision.replies.append(help_text(contact if contact and contact.pin_hash else None, args))
        row = LogEntry(code=config.codes.help, **who)
        duress = state.session_duress and session_open(access, now)
        decision.log.append(replace_details(row, {"duress": True}) if duress else row)
        return state
    authenticated = session_open(access, now)
    if pin is PinCheck.SHED:  # nothing was checked, so nothing counts against the number: it may send it again
        decision.replies.append(PIN_REFUSED)
        decision.log.append(LogEntry(code=config.codes.failed_pin, comment="PIN not checked (too many at once)",
                                     **who))
        return state
    if pin is not PinCheck.ABSENT:
        if not (pin.authenticated and contact):
            return _refuse(decision, state, config, now, who)
        if pin is PinCheck.DURESS:
            decision.log.append(duress_entry(config, **who))
        if contact.pin_expires_at and contact.pin_expires_at <= now:
            decision.replies.append(PIN_EXPIRED)
            decision.log.append(LogEntry(code=config.codes.expired_pin, comment="PIN expired", **who))
            return replace(state, pending_command=None, pending_until=None)
        state = replace(state, session_contact_id=contact.id, failures=0, failures_since=None,
                        session_expires_at=now + timedelta(minutes=config.session_minutes),
                        session_duress=pin is PinCheck.DURESS)
        decision.log.append(LogEntry(code=config.codes.login, **who))
        authenticated = True
    if not authenticated:
        if verb == "LOGOUT":
            decision.replies.append("You are not logged in.")
            return state
        decision.replies.append(f"Send your PIN to run {verb}.")
        return replace(state, pending_command=masked(words)[:160],
                       pending_until=now + timedelta(seconds=config.pending_command_seconds))
    if not words:
        if not state.pending_command:
            until = Commands(contact, access.sites, config, now, {}, base)._time(state.session_expires_at)
            decision.replies.append(f"PIN accepted until {until}. Text HELP for commands.")
            return state
        words = state.pending_command
        verb, args = verb_of(words)
    state = replace(state, pending_command=None, pending_until=None)
    outcome = Commands(contact, access.sites, config, now, dict(access.events), base).run(verb, args)
    _apply(decision, outcome, state.session_duress)
    if outcome.logout:
        state = replace(state, session_contact_id=None, session_expires_at=None, session_duress=False)
    return state


def duress_entry(config: Interface, **who) -> LogEntry:
    """The row that tells the central station the duress PIN was used (never shown to a phone)."""
    return LogEntry(code=config.codes.duress, comment="Duress PIN used", details={"priority": "high"}, **who)


def _refuse(decision: Decision, state: InterfaceState, config: Interface, now: datetime, who: dict) -> InterfaceState:
    failures = state.failures + 1
    state = replace(state, failures=failures, failures_since=state.failures_since or now, pending_command=None,
                    pending_until=None)
    decision.log.append(LogEntry(code=config.codes.failed_pin, comment=f"Wrong PIN ({failures})", **who))
    if failures >= config.max_pin_failures:
        state = replace(state, locked_until=now + timedelta(minutes=config.lockout_minutes))
        decision.log.append(LogEntry(code=config.codes.lockout, comment=f"Locked for {config.lockout_minutes} min "
                                     f"after {failures} wrong PINs", **who))
        decision.replies.append(LOCKED_OUT)
    else:
        decision.replies.append(PIN_REFUSED)
    return state


def _apply(decision: Decision, outcome: Outcome, duress: bool) -> None:
    decision.replies.append(outcome.reply)
    for row in outcome.log:
        decision.log.append(replace_details(row, {"duress": True}) if duress else row)
    decision.site_tests.extend(outcome.site_tests)


def replace_details(row: LogEntry, extra: dict) -> LogEntry:
    return replace(row, details={**(row.details or {}), **extra})


def event_sites(words: str, access: Access, now: datetime) -> list[str]:
    """The sites whose recent events the command in ``words`` (or the pending one) will show."""
    verb, args = verb_of(words)
    if not verb and access.state and access.state.pending_command:
        verb, args = verb_of(access.state.pending_command)
    if verb not in ("STATUS", "EVENTS") or not access.contact:
        return []
    if verb == "EVENTS" and args and args[-1].isdigit() and (len(args) > 1 or len(access.sites) == 1):
        args = args[:-1]
    site = Commands(access.contact, access.sites, Interface(), now, {}, {})._site(args)
    return [] if isinstance(site, str) else [site.id]
