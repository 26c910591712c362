"""The story of one phone number: who has it, what the carrier's lookup, the opt-out list and the SMS
interface hold about it, every text to and from it, and the diagnosis."""

from __future__ import annotations

from datetime import datetime

import msgspec

from gateway.core.diagnosis import NumberFacts, diagnose_number
from gateway.core.phone import display
from gateway.model import Contact
from gateway.services.trace.story import DiagnosisLine, Step, TextOut, last_text, steps_of, verification_step
from gateway.stores import Store

TEXTS = 200  # the newest texts each way ...
ROWS = 500  # ... event-log rows and verifications a story tells
VERIFICATIONS = 50


class ContactLine(msgspec.Struct, frozen=True):
    id: int
    name: str
    site_id: str | None
    site_name: str | None
    group_id: str | None
    group_name: str | None
    auto_notify: bool
    phone_status: str  # unknown, valid, invalid (from the carrier's lookup)
    line_type: str | None
    has_pin: bool
    pin_expires_at: datetime | None
    welcome: str  # none, pending, confirmed, send_error
    welcome_sent_at: datetime | None
    welcome_confirmed_at: datetime | None
    welcome_error: str | None


class LookupLine(msgspec.Struct, frozen=True):
    valid: bool
    line_type: str | None
    carrier_name: str | None
    looked_up_at: datetime


class OptOutLine(msgspec.Struct, frozen=True):
    opted_out: bool
    source: str  # STOP, START, or the carrier's code
    changed_at: datetime


class InterfaceLine(msgspec.Struct, frozen=True):
    """The SMS interface's hold on the number now: a lockout, a session, a mute (None when over)."""

    pin_failures: int
    locked_until: datetime | None
    session_until: datetime | None
    muted_until: datetime | None


class NumberStory(msgspec.Struct, frozen=True, tag="number", tag_field="kind"):
    phone: str
    display: str
    known: bool  # the gateway stores anything at all about the number
    contacts: list[ContactLine]
    lookup: LookupLine | None
    opt_out: OptOutLine | None
    interface: InterfaceLine | None
    steps: list[Step]
    older_left_out: bool  # more than the newest TEXTS / ROWS / VERIFICATIONS are stored
    diagnosis: DiagnosisLine


async def trace_number(store: Store, phone: str, now: datetime) -> NumberStory:
    """Everything the store knows about ``phone`` (E.164), oldest first, and what it means."""
    contacts = [await _contact_line(store, c) for c in await store.contacts_by_phone(phone)]
    found = await store.cached_lookup(phone)
    lookup = LookupLine(found.valid, found.line_type, found.carrier_name, found.looked_up_at) if found else None
    opt = await store.opt_out_state(phone)
    opt_out = OptOutLine(opt.opted_out, opt.source, opt.changed_at) if opt else None
    state = await store.interface_state(phone)
    interface = None if state is None else InterfaceLine(
        pin_failures=state.failures, locked_until=_ahead(state.locked_until, now),
        session_until=_ahead(state.session_expires_at, now), muted_until=_ahead(state.muted_until, now))
    # One more than told of each, to know whether older ones were left out.
    outbound = await store.outbound_texts(phone=phone, limit=TEXTS + 1)
    inbound = await store.inbound_texts(phone, TEXTS + 1)
    rows = await store.phone_log(phone, ROWS + 1)
    verifications = await store.verifications_for_phone(phone, VERIFICATIONS + 1)
    left_out = len(outbound) > TEXTS or len(inbound) > TEXTS or len(rows) > ROWS or len(verifications) > VERIFICATIONS
    outbound, inbound, rows, verifications = outbound[-TEXTS:], inbound[-TEXTS:], rows[-ROWS:], verifications[:VERIFICATIONS]
    names: dict[str, str] = {}
    for v in verifications:
        if v.site_id not in names:
            site = await store.get_site(v.site_id)
            names[v.site_id] = site.name if site else v.site_id
    steps = steps_of(outbound, inbound, rows, [verification_step(v, names[v.site_id], now) for v in verifications])
    known = bool(contacts or lookup or opt_out or state or outbound or inbound or rows or verifications)
    pending = [c.welcome_sent_at for c in contacts if c.welcome == "pending" and c.welcome_sent_at]
    facts = NumberFacts(
        now=now, contacts=len(contacts), auto_notify=any(c.auto_notify for c in contacts), stored=known,
        opted_out_at=opt.changed_at if opt and opt.opted_out else None,
        opted_out_by=opt.source if opt and opt.opted_out else None,
        lookup_valid=found.valid if found else None, line_type=found.line_type if found else None,
        last_text=last_text([s for s in steps if isinstance(s, TextOut)]),
        locked_until=interface.locked_until if interface else None,
        pin_failures=state.failures if state else 0, welcome_pending_since=max(pending) if pending else None,
        answered_at=inbound[-1].received_at if inbound else None)
    return NumberStory(
        phone=phone, display=display(phone), known=known, contacts=contacts, lookup=lookup, opt_out=opt_out,
        interface=interface, steps=steps, diagnosis=DiagnosisLine.of(diagnose_number(facts)), older_left_out=left_out)


async def _contact_line(store: Store, c: Contact) -> ContactLine:
    site = await store.get_site(c.site_id) if c.site_id else None
    group = await store.get_site_group(c.group_id) if c.group_id else None
    welcome = await store.get_welcome(c.id)
    return ContactLine(
        id=c.id, name=c.name, site_id=c.site_id, site_name=site.name if site else None, group_id=c.group_id,
        group_name=group.name if group else None, auto_notify=c.auto_notify, phone_status=c.phone_status,
        line_type=c.line_type, has_pin=c.pin_hash is not None, pin_expires_at=c.pin_expires_at,
        welcome=welcome.state if welcome else "none", welcome_sent_at=welcome.sent_at if welcome else None,
        welcome_confirmed_at=welcome.confirmed_at if welcome else None,
        welcome_error=welcome.send_error if welcome else None)


def _ahead(moment: datetime | None, now: datetime) -> datetime | None:
    return moment if moment is not None and moment > now else None
