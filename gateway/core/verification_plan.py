"""Verifications asked for through the API, and Dispatch SMS: who gets what, by which channel.

``plan_verification`` and ``plan_dispatch`` are pure (contacts in, a Decision out); the
service around them reads the store, commits, and waits briefly for the sends.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from gateway import codes
from gateway.core import call_list
from gateway.core.autoprocess import alert_values, new_verification_id, slot_details
from gateway.errors import DeliveryFailed, InvalidContact, ValidationFailed
from gateway.core.keywords import AutoProcess, DispatchTemplate, KeywordTable
from gateway.core.reply_refs import HeldRef, give_refs, ref_value, with_ref
from gateway.model import (
    PRIORITY_DISPATCH, PRIORITY_VERIFICATION, AlarmEvent, CallStep, Contact, Decision, Dispatch, LogEntry,
    OutboundMessage, Recipient, Site, Verification,
)
from gateway.core.templates import placeholders, render
from gateway.core.voice import call_template

METHODS = ("sms", "email", "call", "push")
_CONTACT_REF = re.compile(r"^(?:contact_)?(\d{1,12})$")


def contact_number(ref: int | str) -> int | None:
    """``12``, ``"12"`` and ``"contact_12"`` all name contact 12; anything else names none."""
    if isinstance(ref, bool):
        return None
    if isinstance(ref, int):
        return ref if ref > 0 else None
    match = _CONTACT_REF.match(ref.strip())
    return int(match.group(1)) if match else None


def choose_contacts(refs: Sequence[int | str], site_contacts: Sequence[Contact]) -> list[Contact]:
    """The contacts ``refs`` name among the site's (``["all"]``: every one); INVALID_CONTACT lists the rest."""
    if list(refs) == ["all"]:
        return list(site_contacts)
    by_id = {c.id: c for c in site_contacts}
    chosen, invalid = [], []
    for ref in refs:
        number = contact_number(ref)
        if number is None or number not in by_id:
            invalid.append(ref)
        elif by_id[number] not in chosen:
            chosen.append(by_id[number])
    if invalid:
        raise InvalidContact(invalid_contacts=invalid)
    return chosen


@dataclass(frozen=True)
class Request:
    """One verification as asked for, after validation."""

    site: Site
    contacts: Sequence[Contact]
    method: str
    message: str | None
    subject: str | None
    timeout_seconds: int
    require_response: bool
    event_id: str | None
    alarm: AlarmEvent | None
    escalation: str = "all"  # or in_order: the contacts one at a time, in the order the request lists them
    step_seconds: int = 60
    push_ready: frozenset[int] = frozenset()  # the contacts with a browser subscribed to push alerts


def _recipients(request: Request, opted_out: set[str]) -> list[Recipient]:
    recipients = []
    for c in request.contacts:
        if request.method in ("sms", "call"):
            channel = request.method
            if not c.phone:
                recipients.append(Recipient(contact_id=c.id, phone=None, status="failed", error="no phone number",
                                            channel=channel))
            elif c.phone in opted_out and channel == "sms":  # STOP opts out of texts, not of calls
                recipients.append(Recipient(contact_id=c.id, phone=c.phone, status="failed", error="opted out (STOP)"))
            else:
                recipients.append(Recipient(contact_id=c.id, phone=c.phone, channel=channel))
        if request.method == "push":
            if c.id in request.push_ready:
                recipients.append(Recipient(contact_id=c.id, phone=None, channel="push"))
            else:
                recipients.append(Recipient(contact_id=c.id, phone=None, channel="push", status="failed",
                                            error="no browser subscribed to push alerts"))
        if c.email and (request.method == "email" or c.email_notify):
            recipients.append(Recipient(contact_id=c.id, phone=None, email=c.email, channel="email"))
        elif request.method == "email":
            recipients.append(Recipient(contact_id=c.id, phone=None, channel="email", status="failed",
                                        error="no email address"))
    return recipients


def plan_verification(request: Request, process: AutoProcess, table: KeywordTable, *, now: datetime,
                      from_phone: str, opted_out: set[str], trace_id: str | None = None,
                      held: Mapping[str, Sequence[HeldRef]] | None = None) -> Decision:
    """A verification to ``request.contacts``: its texts and emails, the rows logging them. ``held``: the reply
    references the phones hold; an answerable text takes its own (gateway/core/reply_refs.py). A call list
    (``escalation: in_order``) reaches its first step now and the rest from the escalation loop."""
    if request.escalation == "in_order":
        return _plan_in_order(request, process, table, now=now, from_phone=from_phone, opted_out=opted_out,
                              trace_id=trace_id, held=held)
    recipients = _recipients(request, opted_out)
    reachable = [r for r in recipients if r.status != "failed"]
    if not reachable:
        first = recipients[0] if recipients else None
        raise DeliveryFailed(reason=first.error if first else "no contact",
                             contact_id=first.contact_id if first else None)
    timeout_at = now + timedelta(seconds=request.timeout_seconds)
    verification = Verification(
        id=new_verification_id(), site_id=request.site.id, event_id=request.event_id, process=process.name,
        status="pending", created_at=now, timeout_at=timeout_at, recipients=tuple(recipients),
        method=request.method, require_response=request.require_response, message=request.message)
    decision = Decision(opened=[verification])
    shown: dict[str, int] = {}
    if request.require_response:  # a notice is answered by nothing
        hold, shown = give_refs(held, [r.phone for r in reachable if r.channel == "sms"], verification, now)
        decision.reply_refs.extend(hold)
    base = dict(at=now, site_id=request.site.id, event_id=request.event_id, verification_id=verification.id,
                trace_id=trace_id)
    by_id = {c.id: c for c in request.contacts}
    for r in recipients:
        contact = by_id[r.contact_id]
        if r.status == "failed":
            decision.log.append(LogEntry(code=codes.SEND_FAILED, contact_id=contact.id, phone=r.phone,
                                         comment=f"{r.channel} to {contact.name}: {r.error}", **base))
            continue
        ref = shown.get(r.phone) if r.channel == "sms" else None
        template = call_template(process) if r.channel == "call" else process.template
        text = request.message or render(template, {**alert_values(
            site=request.site, alarm=request.alarm, contact=contact, process=process,
            central_station=table.central_station, now=now), "ref": ref_value(ref)})
        text = with_ref(text, "" if request.message else process.template, process, ref)
        expires = timeout_at if request.require_response else None
        if r.channel in ("sms", "call", "push"):
            decision.outbound.append(OutboundMessage(
                to_phone=r.phone or "", from_phone=from_phone, body=text, kind="verification", channel=r.channel,
                priority=PRIORITY_VERIFICATION, site_id=request.site.id, contact_id=contact.id,
                verification_id=verification.id, expires_at=expires))
        else:
            decision.outbound.append(OutboundMessage(
                to_phone="", body=text, kind="verification", priority=PRIORITY_VERIFICATION, channel="email",
                to_address=r.email, subject=request.subject or f"Alarm verification: {request.site.name}",
                site_id=request.site.id, contact_id=contact.id, verification_id=verification.id, expires_at=expires))
        decision.log.append(LogEntry(
            code=process.sent_code, contact_id=contact.id, phone=r.phone, comment=text,
            details={"method": r.channel, "recipient": contact.name, **slot_details(contact),
                     **({"email": r.email} if r.email else {})}, **base))
    return decision


def _plan_in_order(request: Request, process: AutoProcess, table: KeywordTable, *, now: datetime, from_phone: str,
                   opted_out: set[str], trace_id: str | None,
                   held: Mapping[str, Sequence[HeldRef]] | None = None) -> Decision:
    """A call list of the request's contacts, in the order given, one step each ``step_seconds``; the first
    step reached now. DELIVERY_FAILED when nobody on the list can be reached at all."""
    if not request.require_response:
        raise ValidationFailed("escalation in_order waits for an answer: it needs require_response true.",
                               field="escalation")
    plan = msgspec.structs.replace(
        process.call_list, mode="in_order", step_seconds=request.step_seconds, urgent=True,
        steps=(CallStep(methods=(request.method,)),), timeout_seconds=request.timeout_seconds,
        subject=request.subject or f"Alarm verification: {request.site.name}")
    verification = Verification(
        id=new_verification_id(), site_id=request.site.id, event_id=request.event_id, process=process.name,
        status="pending", created_at=now, timeout_at=now + timedelta(seconds=request.timeout_seconds),
        method=request.method, message=request.message, call_list=plan,
        recipients=call_list.first_rows(request.contacts, plan, now))
    decision = Decision()
    call_list.open_list(decision, call_list.Listing(
        verification=verification, site=request.site, alarm=request.alarm,
        contacts={c.id: c for c in request.contacts}, process=process, central_station=table.central_station,
        from_phone=from_phone, opted_out=frozenset(opted_out), trace_id=trace_id, held=held or {}), now)
    rows = decision.opened[0].recipients
    if all(r.status == "skipped" for r in rows):
        raise DeliveryFailed(reason=rows[0].error if rows else "no contact",
                             contact_id=rows[0].contact_id if rows else None)
    return decision


def render_dispatch(template: DispatchTemplate | None, text: str | None, variables: dict[str, str]) -> str:
    """The operator's text, or the template filled in; 422 naming any missing or unknown variable."""
    if text is not None:
        return text
    assert template is not None
    unknown = sorted(set(variables) - set(template.variables))
    missing = sorted(v for v in template.variables if v in placeholders(template.text) and not variables.get(v))
    if unknown or missing:
        raise ValidationFailed(
            f"Template {template.name!r}: " + "; ".join(
                part for part in (f"unknown variables {unknown}" if unknown else "",
                                  f"missing variables {missing}" if missing else "") if part),
            field="variables", missing=missing, unknown=unknown)
    return template.text


def plan_dispatch(site: Site, contacts: Sequence[Contact], template: DispatchTemplate | None, text: str,
                  variables: dict[str, str], table: KeywordTable, *, now: datetime, from_phone: str,
                  opted_out: set[str], trace_id: str | None = None) -> Decision:
    """A Dispatch SMS to ``contacts``: the texts, one log row per recipient, the reply window."""
    reachable = [c for c in contacts if c.phone and c.phone not in opted_out]
    if not reachable:
        first = contacts[0] if contacts else None
        reason = "no contact" if first is None else ("opted out (STOP)" if first.phone else "no phone number")
        raise DeliveryFailed(reason=reason, contact_id=first.id if first else None)
    code = template.code if template else codes.DISPATCH_SENT
    window = template.reply_window_minutes if template else 60
    dispatch = Dispatch(id="dsp_" + secrets.token_hex(8), site_id=site.id, template=template.name if template else None,
                        code=code, created_at=now, reply_until=now + timedelta(minutes=window),
                        recipients=tuple((c.id, c.phone) for c in reachable))
    decision = Decision(dispatches=[dispatch])
    try:
        placeholders(text)
    except ValueError as exc:
        raise ValidationFailed(f"The text is not a valid template: {exc} (write {{{{ and }}}} for braces).",
                               field="text") from None
    for contact in reachable:
        body = render(text, {**alert_values(site=site, alarm=None, contact=contact, process=None,
                                            central_station=table.central_station, now=now), **variables})
        decision.outbound.append(OutboundMessage(
            to_phone=contact.phone, from_phone=from_phone, body=body, kind="dispatch", priority=PRIORITY_DISPATCH,
            site_id=site.id, contact_id=contact.id))
        decision.log.append(LogEntry(code=code, at=now, site_id=site.id, contact_id=contact.id, phone=contact.phone,
                                     comment=body, trace_id=trace_id,
                                     details={"dispatch_id": dispatch.id, "template": dispatch.template,
                                              "recipient": contact.name, **slot_details(contact)}))
    for contact in contacts:
        if contact not in reachable:
            decision.log.append(LogEntry(code=codes.SEND_FAILED, at=now, site_id=site.id, contact_id=contact.id,
                                         phone=contact.phone, trace_id=trace_id,
                                         comment=f"dispatch to {contact.name}: no phone or opted out"))
    return decision
