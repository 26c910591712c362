"""Call lists: reaching a verification's contacts all at once or in call order, a step at a time. Pure, no I/O.

A verification with a call list keeps one recipient row per contact and method, each with its step.
Step 1 is due at once; a later step waits (``waiting``, no due time) until the step before it is
reached, and is then due ``step_seconds`` later, or at once when nobody of the step before can be
reached (opted out, landline, no phone, or the outbox gave up: :func:`after_failure`). A contact in
quiet hours is ``held`` until they end when the process is not urgent. The first decisive answer
ends the list (the store marks whoever is left ``not_reached``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import msgspec

from gateway.clock import isoformat
from gateway.core import quiet_hours
from gateway.core.autoprocess import alert_values, slot_details, zone_named
from gateway.core.keywords import AutoProcess
from gateway.core.reply_refs import HeldRef, give_refs, ref_value, with_ref
from gateway.core.templates import render
from gateway.core.voice import call_template
from gateway.model import (
    PRIORITY_VERIFICATION, AlarmEvent, CallList, CallStep, Contact, Decision, LogEntry, OutboundMessage, Recipient,
    ReplyRef, Site, Verification,
)

LIVE = ("pending", "sent", "delivered")  # reached, and may still answer
DUE = ("waiting", "held")
PHONE_METHODS = ("sms", "call")


def call_order(contacts: Sequence[Contact]) -> list[Contact]:
    """Lower ``call_order`` first; contacts without one after them; ties by slot number, then by id."""
    return sorted(contacts, key=lambda c: (c.call_order is None, c.call_order or 0, c.slot_number is None,
                                           c.slot_number or 0, c.id))


def plain(call_list: CallList) -> bool:
    """True for today's way: everyone at once, urgent (no quiet hours): nothing for the escalation loop."""
    return call_list.mode == "all" and call_list.urgent


def step_of(call_list: CallList, number: int) -> CallStep:
    """The step numbered ``number`` (1 first); the last one serves every later number."""
    return call_list.steps[min(number, len(call_list.steps)) - 1]


def methods_of(contact: Contact, step: CallStep) -> list[str]:
    """The step's methods, and email for a contact with the email box ticked (as an all-at-once text does)."""
    methods = list(step.methods)
    if contact.email_notify and contact.email and "email" not in methods:
        methods.append("email")
    return methods


def first_rows(contacts: Sequence[Contact], call_list: CallList, now: datetime) -> tuple[Recipient, ...]:
    """A recipient row per contact (in the order given) and method, with its step; step 1 due ``now``."""
    rows = []
    last = len(call_list.steps)
    for index, contact in enumerate(contacts):
        if call_list.mode == "all":
            number = 1
        elif index + 1 >= last and call_list.steps[-1].everyone_left:
            number = last
        else:
            number = index + 1
        for method in methods_of(contact, step_of(call_list, number)):
            rows.append(Recipient(contact_id=contact.id, channel=method, step=number, status="waiting",
                                  phone=contact.phone if method in PHONE_METHODS else None,
                                  email=contact.email if method == "email" else None,
                                  due_at=now if number == 1 else None))
    return tuple(rows)


@dataclass(frozen=True)
class Listing:
    """Everything reaching a verification's due recipients needs."""

    verification: Verification
    site: Site
    alarm: AlarmEvent | None
    contacts: Mapping[int, Contact]
    process: AutoProcess
    central_station: str
    from_phone: str
    opted_out: frozenset[str] = frozenset()
    trace_id: str | None = None
    # The reply references the contacts' phones hold now: a text reached while another alarm is open for the phone
    # carries its own (gateway/core/reply_refs.py), as an all-at-once text does.
    held: Mapping[str, Sequence[HeldRef]] = field(default_factory=dict)


@dataclass
class Reached:
    """What one pass over a call list changed: recipient rows, the new timeout, the messages and rows to write."""

    recipients: list[Recipient] = field(default_factory=list)
    outbound: list[OutboundMessage] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    timeout_at: datetime | None = None
    reply_refs: list[ReplyRef] = field(default_factory=list)  # for the store to hold with the texts


def skip_reason(contact: Contact | None, row: Recipient, opted_out: frozenset[str]) -> str | None:
    """Why ``row`` cannot be reached at all (the list moves on at once), or None."""
    if contact is None:
        return "contact deleted"
    if row.channel in PHONE_METHODS:
        if not contact.phone:
            return "no phone number"
        if row.channel == "sms" and contact.phone in opted_out:
            return "opted out (STOP)"
        if row.channel == "sms" and contact.phone_status == "invalid":
            return "landline: cannot take a text" if contact.line_type == "landline" else "invalid number (lookup)"
        if row.channel == "call" and contact.phone_status == "invalid" and contact.line_type != "landline":
            return "invalid number (lookup)"
    if row.channel == "email" and not contact.email:
        return "no email address"
    return None


def reach(listing: Listing, now: datetime) -> Reached:
    """Reach every recipient due at ``now``: its message, or held (quiet hours), or skipped; then schedule the
    next step. Bounded: every round settles one step."""
    v = listing.verification
    cl = v.call_list or CallList()
    rows = {(r.contact_id, r.channel): r for r in v.recipients}
    result = Reached(timeout_at=v.timeout_at)
    base = dict(at=now, site_id=v.site_id, event_id=v.event_id, verification_id=v.id, trace_id=listing.trace_id)
    for _ in range(len(rows) + 1):
        # A row "removed" (its contact was deleted) while its step was scheduled is due too: the list moves past it.
        due = [r for r in rows.values() if r.status in (*DUE, "removed") and r.due_at is not None and r.due_at <= now]
        if not due:
            break
        reached_before = any(r.status in LIVE or r.status == "failed" for r in rows.values())
        settled = [_settle(listing, cl, r, now, result, base) for r in due]
        if any(r.status == "pending" for r in settled):
            window = cl.step_seconds if reached_before and cl.mode == "in_order" else cl.timeout_seconds
            result.timeout_at = max(result.timeout_at, now + timedelta(seconds=window))
        for row in settled:
            rows[(row.contact_id, row.channel)] = row
        _messages(listing, cl, settled, result, base)
        for row in _schedule(cl, rows.values(), max(r.step or 1 for r in due), now):
            rows[(row.contact_id, row.channel)] = row
            settled.append(row)
        result.recipients.extend(settled)
    latest = {(r.contact_id, r.channel): r for r in result.recipients}
    result.recipients = list(latest.values())
    return result


def _settle(listing: Listing, cl: CallList, row: Recipient, now: datetime, result: Reached, base: dict) -> Recipient:
    contact = listing.contacts.get(row.contact_id)
    details = {"step": row.step, "method": row.channel, "process": listing.process.name}
    if contact is not None and not cl.urgent:
        zone = zone_named(contact.time_zone or listing.site.time_zone)
        until = quiet_hours.quiet_until(contact.quiet_hours, zone, now)
        if until is not None:
            result.timeout_at = max(result.timeout_at, until + timedelta(seconds=cl.timeout_seconds))
            if row.status != "held":
                result.log.append(LogEntry(
                    code=cl.held_code, contact_id=contact.id, comment=(
                        f"{contact.name} is in quiet hours ({contact.quiet_hours}) until "
                        f"{until.astimezone(zone):%H:%M %Z}: {row.channel} then (the process is not urgent)."),
                    details={**details, "until": isoformat(until)}, **base))
            return msgspec.structs.replace(row, status="held", due_at=until)
    reason = skip_reason(contact, row, listing.opted_out)
    if row.status == "removed":
        result.log.append(LogEntry(code=cl.skip_code, contact_id=row.contact_id, comment=(
            f"Step {row.step}: {row.channel} to contact {row.contact_id} skipped: contact deleted."),
            details={**details, "reason": "contact deleted"}, **base))
        return msgspec.structs.replace(row, due_at=None)
    if reason is not None:
        name = contact.name if contact else f"contact {row.contact_id}"
        result.log.append(LogEntry(code=cl.skip_code, contact_id=row.contact_id, phone=row.phone,
                                   comment=f"Step {row.step}: {row.channel} to {name} skipped: {reason}.",
                                   details={**details, "reason": reason}, **base))
        return msgspec.structs.replace(row, status="skipped", error=reason, due_at=None)
    return msgspec.structs.replace(row, status="pending", due_at=None)


def _messages(listing: Listing, cl: CallList, settled: Sequence[Recipient], result: Reached, base: dict) -> None:
    """The message of each recipient reached now, its sent row, and one step row per contact (in order only)."""
    v, process = listing.verification, listing.process
    by_contact: dict[int, list[Recipient]] = {}
    for row in settled:
        if row.status == "pending":
            by_contact.setdefault(row.contact_id, []).append(row)
    shown: dict[str, int] = {}
    texted = [listing.contacts[c].phone for c, rows in by_contact.items() for r in rows
              if r.channel == "sms" and listing.contacts[c].phone]
    if texted and v.require_response:  # held as long as the list now runs (its timeout moves with the steps)
        hold, shown = give_refs(listing.held, texted, msgspec.structs.replace(v, timeout_at=result.timeout_at),
                                base["at"])
        result.reply_refs.extend(hold)
    for contact_id, reached in by_contact.items():
        contact = listing.contacts[contact_id]
        values = alert_values(site=listing.site, alarm=listing.alarm, contact=contact, process=process,
                              central_station=listing.central_station, now=v.created_at)
        number = reached[0].step or 1
        if cl.mode == "in_order":
            step = step_of(cl, number)
            methods = [r.channel for r in reached]
            result.log.append(LogEntry(
                code=step.code or cl.step_code, contact_id=contact.id, phone=contact.phone,
                comment=f"Step {number} of the call list: {contact.name} by {', '.join(methods)}.",
                details={"step": number, "methods": methods, "recipient": contact.name, "process": process.name,
                         **slot_details(contact)}, **base))
        for row in reached:
            # A call says its call_template (the SMS template without "Reply YES..."), a text or push the template.
            ref = shown.get(contact.phone or "") if row.channel == "sms" else None
            text = v.message or render(call_template(process) if row.channel == "call" else process.template,
                                       {**values, "ref": ref_value(ref)})
            text = with_ref(text, "" if v.message else process.template, process, ref)
            phone = contact.phone if row.channel in PHONE_METHODS else None
            result.outbound.append(OutboundMessage(
                to_phone=phone or "", from_phone=listing.from_phone if phone else None, body=text,
                kind="verification", priority=PRIORITY_VERIFICATION, site_id=v.site_id, contact_id=contact.id,
                verification_id=v.id, expires_at=result.timeout_at, channel=row.channel,
                to_address=contact.email if row.channel == "email" else None,
                subject=(cl.subject or f"ALARM at {listing.site.name}") if row.channel == "email" else None))
            result.log.append(LogEntry(
                code=process.sent_code, contact_id=contact.id, phone=phone, comment=text,
                details={"process": process.name, "recipient": contact.name, "method": row.channel,
                         "step": number, **slot_details(contact), **({"email": contact.email}
                                                                     if row.channel == "email" else {})},
                **base))


def _schedule(cl: CallList, rows: Sequence[Recipient] | object, step: int, now: datetime) -> list[Recipient]:
    """After ``step`` was worked on: the next step due in ``step_seconds`` (someone is reached), at once (nobody
    could be), or not yet (someone of it is held for quiet hours)."""
    if cl.mode != "in_order":
        return []
    rows = list(rows)  # type: ignore[arg-type]
    this = [r for r in rows if r.step == step]
    if any(r.status == "held" for r in this):
        return []
    live = any(r.status in LIVE for r in this)
    due_at = now + timedelta(seconds=cl.step_seconds) if live else now
    return [msgspec.structs.replace(r, due_at=due_at) for r in _next_step(rows, step) if r.due_at is None]


def _next_step(rows: Sequence[Recipient], step: int) -> list[Recipient]:
    """The waiting recipients of the first step after ``step`` that has any (a deleted contact's step has none)."""
    later = [r for r in rows if r.step and r.step > step and r.status == "waiting"]
    first = min((r.step for r in later), default=None)
    return [r for r in later if r.step == first]


def after_failure(verification: Verification, now: datetime) -> list[Recipient]:
    """The recipients to make due now because the step being waited on has nobody left who can answer (its
    texts and calls failed): in-order lists move on at once rather than wait out the step's seconds."""
    cl = verification.call_list
    if cl is None or cl.mode != "in_order":
        return []
    rows = verification.recipients
    worked = [r.step for r in rows if r.step and r.status in (*LIVE, "held", "failed", "skipped")]
    if not worked:
        return []
    step = max(worked)
    if any(r.status in LIVE or r.status == "held" for r in rows if r.step == step):
        return []
    return [msgspec.structs.replace(r, due_at=now) for r in _next_step(rows, step)
            if r.due_at is None or r.due_at > now]


def open_list(decision: Decision, listing: Listing, now: datetime) -> None:
    """Open ``listing.verification`` in ``decision`` with its first step reached (as part of the same commit)."""
    reached = reach(listing, now)
    changed = {(r.contact_id, r.channel): r for r in reached.recipients}
    v = listing.verification
    decision.opened.append(msgspec.structs.replace(
        v, timeout_at=reached.timeout_at or v.timeout_at,
        recipients=tuple(changed.get((r.contact_id, r.channel), r) for r in v.recipients)))
    decision.outbound.extend(reached.outbound)
    decision.log.extend(reached.log)
    decision.reply_refs.extend(reached.reply_refs)
