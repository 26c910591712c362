"""Alarm event in, verification texts out: the auto processes of keywords.yaml. Pure, no I/O."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway import codes
from gateway.core.keywords import AutoProcess, KeywordTable
from gateway.core.reply_refs import HeldRef, give_refs, ref_value, with_ref
from gateway.model import (
    PRIORITY_VERIFICATION,
    AlarmEvent,
    Contact,
    Decision,
    LogEntry,
    OutboundMessage,
    Recipient,
    Site,
    Verification,
)
from gateway.core.templates import render


def new_verification_id() -> str:
    return "ver_" + secrets.token_hex(8)


def zone_named(name: str | None) -> ZoneInfo:
    """The IANA zone ``name``; UTC when it is empty or unknown (a typo must not stop an alarm text)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def slot_details(contact: Contact) -> dict[str, object]:
    """The contact's title and slot number, so the automation platform files the row under the right slot."""
    return {k: v for k, v in (("title", contact.title), ("slot_number", contact.slot_number)) if v is not None}


def alert_values(
    *, site: Site, alarm: AlarmEvent | None, contact: Contact | None, process: AutoProcess | None,
    central_station: str, now: datetime,
) -> dict[str, object]:
    """The placeholder values of an alert template or keyword reply, times in the contact's zone."""
    local = now.astimezone(zone_named((contact.time_zone if contact else None) or site.time_zone))
    return {
        "site_name": site.name,
        "site_id": site.id,
        "zone": (alarm.zone if alarm else None) or "",
        "event_code": alarm.event_code if alarm else "",
        "event_text": (alarm.text if alarm else None) or "",
        "event_id": alarm.id if alarm else "",
        "time": local.strftime("%H:%M %Z"),
        "date": local.strftime("%Y-%m-%d"),
        "first_name": contact.first_name if contact else "",
        "last_name": contact.last_name if contact else "",
        "contact_name": contact.name if contact else "",
        "timeout_minutes": (process.timeout_seconds + 59) // 60 if process else "",
        "central_station": central_station,
    }


def decide_alarm(
    alarm: AlarmEvent, site: Site, contacts: Sequence[Contact], table: KeywordTable, *,
    now: datetime, from_phone: str, new_id: Callable[[], str] = new_verification_id, trace_id: str | None = None,
    held: Mapping[str, Sequence[HeldRef]] | None = None, opted_out: frozenset[str] = frozenset(),
) -> Decision:
    """Every auto process triggered by ``alarm``: a verification each, a text per auto-notify contact.

    ``held``: the reply references each recipient's phone holds; each text gets the alarm's reference for its
    phone, shown when that phone has another alarm open."""
    decision = Decision(alarm=alarm)
    base = dict(at=now, site_id=site.id, event_id=alarm.id, trace_id=trace_id)
    decision.log.append(LogEntry(code=alarm.event_code, comment=alarm.text,
                                 details={"zone": alarm.zone} if alarm.zone else None, **base))
    if site.on_test_until is not None and site.on_test_until > now:
        decision.log.append(LogEntry(code=codes.ON_TEST, comment=f"{site.name} is on test until "
                                     f"{site.on_test_until:%H:%M} UTC: no verification text sent.", **base))
        return decision
    processes = table.processes_for(alarm.event_code)
    if not processes:
        decision.log.append(LogEntry(code=codes.ALARM_NO_PROCESS,
                                     comment=f"No auto process handles event code {alarm.event_code}.", **base))
        return decision
    recipients = [c for c in contacts if c.auto_notify and c.phone]
    # The guide's "email" box: an auto-notify contact with it also gets the verification by email.
    emailed = [c for c in contacts if c.auto_notify and c.email_notify and c.email]
    for process in processes:
        if not recipients and not emailed:
            decision.log.append(LogEntry(code=codes.NO_RECIPIENT, details={"process": process.name},
                                         comment=f"{process.name}: no auto-notify contact with a phone.", **base))
            continue
        if not call_list.plain(process.call_list):
            called = [c for c in contacts if c.auto_notify and (c.phone or (c.email_notify and c.email))]
            call_list.open_list(decision, call_list.Listing(
                verification=Verification(
                    id=new_id(), site_id=site.id, event_id=alarm.id, process=process.name, status="pending",
                    created_at=now, timeout_at=now + timedelta(seconds=process.timeout_seconds),
                    call_list=process.call_list,
                    recipients=call_list.first_rows(call_list.call_order(called), process.call_list, now)),
                site=site, alarm=alarm, contacts={c.id: c for c in called}, process=process,
                central_station=table.central_station, from_phone=from_phone, opted_out=opted_out,
                trace_id=trace_id, held=held or {}), now)
            continue
        verification = Verification(
            id=new_id(), site_id=site.id, event_id=alarm.id, process=process.name, status="pending",
            created_at=now, timeout_at=now + timedelta(seconds=process.timeout_seconds),
            recipients=tuple(Recipient(contact_id=c.id, phone=c.phone) for c in recipients)
            + tuple(Recipient(contact_id=c.id, phone=None, email=c.email, channel="email") for c in emailed),
        )
        decision.opened.append(verification)
        hold, shown = give_refs(held, [c.phone for c in recipients], verification, now)
        decision.reply_refs.extend(hold)
        for contact, channel in [(c, "sms") for c in recipients] + [(c, "email") for c in emailed]:
            ref = shown.get(contact.phone) if channel == "sms" else None  # a link answers an email, not a word
            text = with_ref(render(process.template, {**alert_values(
                site=site, alarm=alarm, contact=contact, process=process,
                central_station=table.central_station, now=now), "ref": ref_value(ref)}), process.template, process, ref)
            decision.outbound.append(OutboundMessage(
                to_phone=contact.phone if channel == "sms" else "", from_phone=from_phone, body=text,
                kind="verification", priority=PRIORITY_VERIFICATION, site_id=site.id, contact_id=contact.id,
                verification_id=verification.id, expires_at=verification.timeout_at, channel=channel,
                to_address=contact.email if channel == "email" else None,
                subject=f"ALARM at {site.name}" if channel == "email" else None,
            ))
            decision.log.append(LogEntry(
                code=process.sent_code, contact_id=contact.id, phone=contact.phone if channel == "sms" else None,
                verification_id=verification.id, comment=text,
                details={"process": process.name, "recipient": contact.name, "method": channel,
                         **slot_details(contact)},
                **base,
            ))
    return decision


from gateway.core import call_list  # noqa: E402  (it builds on alert_values above)
