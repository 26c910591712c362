"""The story of one verification (each recipient's texts and answers) and of a site's last alarm (its
verifications, or why it opened none)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from gateway.core.carrier_errors import explain
from gateway.core.diagnosis import NO_ALARM, RecipientFacts, VerificationFacts, diagnose_alarm, diagnose_verification
from gateway.model import AlarmEvent, Contact, Verification
from gateway.services.trace.story import (
    DiagnosisLine, ErrorWords, Step, TextOut, VerificationStep, logged, steps_of, verification_step,
)
from gateway.stores import Store

ROWS = 500  # rows and messages one alarm's story tells
LATEST = 20  # the site's newest verifications looked at for its last alarm's


class RecipientLine(msgspec.Struct, frozen=True):
    contact_id: int
    name: str
    channel: str
    address: str | None  # the phone or email address it went to
    status: str  # pending, sent, delivered, failed, removed
    response: str | None
    responded_at: datetime | None
    error: ErrorWords | None  # why it failed, the carrier's code in words


class AlarmLine(msgspec.Struct, frozen=True):
    id: str
    event_code: str
    zone: str | None
    text: str | None
    received_at: datetime


class VerificationStory(msgspec.Struct, frozen=True, tag="verification", tag_field="kind"):
    verification: VerificationStep
    alarm: AlarmLine | None
    recipients: list[RecipientLine]
    steps: list[Step]
    diagnosis: DiagnosisLine


class SiteStory(msgspec.Struct, frozen=True, tag="site", tag_field="kind"):
    site_id: str
    site_name: str
    alarm: AlarmLine | None  # the last one; None when its verification came with no alarm the gateway saw
    steps: list[Step]  # the alarm's own rows (the alarm, why it opened nothing)
    verifications: list[VerificationStory]
    diagnosis: DiagnosisLine


async def trace_verification(store: Store, verification_id: str, now: datetime) -> VerificationStory | None:
    """One verification's story; None when there is no such verification."""
    v = await store.get_verification(verification_id)
    return await _story(store, v, now, alarm_rows=True) if v is not None else None


async def trace_site(store: Store, site_id: str, site_name: str, now: datetime) -> SiteStory:
    """The story of the site's last alarm: the newest alarm event with what it opened, or the newest
    verification when that came later without an alarm event."""
    alarm = await store.last_alarm_event(site_id)
    latest = await store.site_verifications(site_id, LATEST)
    if latest and (alarm is None or latest[0].created_at > alarm.received_at and latest[0].event_id != alarm.id):
        story = await _story(store, latest[0], now, alarm_rows=True)
        return SiteStory(site_id=site_id, site_name=site_name, alarm=story.alarm, steps=[], verifications=[story],
                         diagnosis=story.diagnosis)
    if alarm is None:
        return SiteStory(site_id=site_id, site_name=site_name, alarm=None, steps=[], verifications=[],
                         diagnosis=DiagnosisLine.of(NO_ALARM))
    rows = await store.alarm_log(site_id, alarm.id, ROWS)
    stories = [await _story(store, v, now, alarm_rows=False) for v in reversed(latest) if v.event_id == alarm.id]
    diagnosis = stories[0].diagnosis if stories else DiagnosisLine.of(
        diagnose_alarm(alarm.event_code, [r.code for r in rows]))
    return SiteStory(site_id=site_id, site_name=site_name, alarm=_alarm_line(alarm),
                     steps=[logged(r) for r in rows if r.verification_id is None], verifications=stories,
                     diagnosis=diagnosis)


async def _story(store: Store, v: Verification, now: datetime, alarm_rows: bool) -> VerificationStory:
    """``alarm_rows``: tell the rows of the verification's alarm too (a site's story tells them once itself)."""
    site = await store.get_site(v.site_id)
    contacts = {c.id: c for c in await store.list_contacts(v.site_id)}
    alarm = await store.get_alarm_event(v.event_id) if v.event_id else None
    texts = await store.outbound_texts(verification_id=v.id, limit=ROWS)
    rows = {r.id: r for r in await store.verification_log(v.site_id, v.id, ROWS)}
    if alarm is not None and alarm_rows:
        rows |= {r.id: r for r in await store.alarm_log(v.site_id, alarm.id, ROWS) if r.verification_id is None}
    if v.responder_name is None and v.responded_by in contacts:
        v = msgspec.structs.replace(v, responder_name=contacts[v.responded_by].name)
    step = verification_step(v, site.name if site else v.site_id, now)
    steps = steps_of(texts, (), sorted(rows.values(), key=lambda r: r.id), [step])
    told = {(s.contact_id, s.channel): s for s in steps if isinstance(s, TextOut)}
    recipients = [_recipient(r, contacts.get(r.contact_id), told.get((r.contact_id, r.channel))) for r in v.recipients]
    diagnosis = diagnose_verification(VerificationFacts(
        now=now, status=v.status, timeout_at=v.timeout_at, require_response=v.require_response, response=v.response,
        responded_at=v.responded_at, responder=v.responder_name,
        recipients=[RecipientFacts(name=r.name, status=r.status, error_code=r.error.code or None if r.error else None,
                                   error=r.error.meaning if r.error else None) for r in recipients]))
    return VerificationStory(verification=step, alarm=_alarm_line(alarm) if alarm else None, recipients=recipients,
                             steps=steps, diagnosis=DiagnosisLine.of(diagnosis))


def _recipient(r, contact: Contact | None, text: TextOut | None) -> RecipientLine:
    error = None
    if r.status == "failed":
        error = text.error if text is not None and text.error is not None else ErrorWords(
            *explain(None)._replace(meaning=r.error or "not sent"))
    return RecipientLine(contact_id=r.contact_id, name=contact.name if contact else f"contact {r.contact_id} (deleted)",
                         channel=r.channel, address=r.phone if r.channel == "sms" else r.email, status=r.status,
                         response=r.response, responded_at=r.responded_at, error=error)


def _alarm_line(alarm: AlarmEvent) -> AlarmLine:
    return AlarmLine(id=alarm.id, event_code=alarm.event_code, zone=alarm.zone, text=alarm.text,
                     received_at=alarm.received_at)
