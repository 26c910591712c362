"""Inbound text in, decision out. Pure: no I/O, no carrier, no database.

The order of questions for one text:
1. Does it answer an open verification (newest first) with one of its process's keywords?
   Then the keyword logs its code and sends its reply.
2. Is it for the SMS interface (a command word, a PIN, or anything within a session)?
   Then the interface answers (gateway/core/interface/).
3. Does it answer a verification someone already confirmed or cancelled? Then it is logged
   and told so ("already confirmed by NAME").
4. Does it answer an open verification otherwise? Then it logs the process's response code
   (its PIN-response code when the text carried the contact's PIN).
5. A text recovered from the carrier late (the gateway missed it): would it have answered a verification
   that has timed out since? Then it is logged as a late reply (``SMSLATE``), neither counted nor thanked.
6. Does it come within the reply window of a Dispatch SMS to the number? ``SMSReply``.
7. Otherwise the catch-all: for unknown numbers, or an ordinary message from a contact.
A text carrying the duress PIN also logs the duress row, wherever it lands (the interface logs its own).
Last, the number's reply budget may silence the answer; a late text's rows say it came late and when.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import msgspec

from gateway import codes
from gateway.core.autoprocess import alert_values, slot_details
from gateway.clock import isoformat
from gateway.config import Interface, Verifications
from gateway.core.interface import Access, apply_reply_budget, claims, decide_interface
from gateway.core.interface.auth import duress_entry
from gateway.core.keywords import Keyword, KeywordTable
from gateway.model import (
    AlarmEvent, Contact, Decision, Dispatch, InboundMessage, InterfaceState, LogEntry, Notification, Site, Verification,
    VerificationResponse,
)
from gateway.core.pin import PinCheck
from gateway.core.reply_refs import HeldRef, alarm_key, answered_value, ref_value
from gateway.core.reply_target import Target, aim, still_open, which_alarm
from gateway.core.templates import placeholders, render

OUTCOME_RESPONSES = {"confirm": "confirmed", "cancel": "cancelled"}
DEFAULT_RESPONSE_CODE = "SMSReply"


class Sender(msgspec.Struct, frozen=True):  # a Struct, not a dataclass: built for every text at a fifth of the cost
    """What the store knows about the number a text came from."""

    contacts: Sequence[Contact] = ()
    open: Sequence[tuple[Verification, int]] = ()  # newest first, with the recipient contact id
    sites: Mapping[str, Site] = msgspec.field(default_factory=dict)
    alarms: Mapping[str, AlarmEvent] = msgspec.field(default_factory=dict)
    access: Access = msgspec.field(default_factory=Access)
    dispatches: Sequence[Dispatch] = ()  # reply window open, newest first
    # A text recovered late: the verifications it could have answered when the carrier took it, newest first.
    open_when_sent: Sequence[tuple[Verification, int]] = ()
    refs: Sequence[HeldRef] = ()  # the reply references the number holds (read only when a verification is open)


class Text(msgspec.Struct, frozen=True):
    """The text split for deciding: the words without a PIN, and the body as it may be stored."""

    words: str
    stored: str
    pin: PinCheck = PinCheck.ABSENT


def decide_inbound(msg: InboundMessage, sender: Sender, text: Text, table: KeywordTable, interface: Interface,
                   verifications: Verifications, trace_id: str | None = None) -> Decision:
    """What to log, answer and change for one inbound text. ``msg.body`` must already be masked."""
    decision = Decision(inbound=msg)
    now = msg.received_at
    base = dict(at=now, phone=msg.from_phone, trace_id=trace_id)
    loaded = sender.access.state or InterfaceState(phone=msg.from_phone)
    state = loaded
    sent = msg.carrier_received_at  # a late text knew only the alarms texted before it
    refs = [h for h in sender.refs if h.created_at <= sent] if sent is not None else sender.refs
    target = aim(sender.open, refs, text.words, table, now)  # "YES 2": alarm 2 first, "YES" the words
    if target.open is not sender.open:  # most texts name no alarm: nothing to copy
        sender = msgspec.structs.replace(sender, open=target.open)
    if target.words != text.words:
        text = msgspec.structs.replace(text, words=target.words)
    answered = bool(sender.open) and sender.open[0][0].status == "responded"
    keyword = None if answered or target.problem else _keyword(sender, text, table)
    interfaced = keyword is None and not target.problem and claims(text.words, text.pin, sender.access, now,
                                                                   verification_open=bool(sender.open))
    overdue = next(((v, c) for v, c in sender.open_when_sent if v.timeout_at <= now), None)
    if target.closed is not None and msg.carrier_received_at is not None:  # late, naming one timed out since
        overdue = next(((v, c) for v, c in sender.open_when_sent
                        if alarm_key(v) == target.closed.alarm_key and v.timeout_at <= now), None)
    if target.problem and overdue is not None and msg.carrier_received_at is not None:
        _late_answer(decision, overdue, text, table, base)  # as any answer seen after its alarm's timeout
    elif target.problem:
        entry, reply = which_alarm(target, sender.refs, table, verifications, sender.sites,
                                   sender.alarms, text.stored, base)
        decision.log.append(entry)
        decision.replies.append(reply)
    elif keyword is not None:
        _answer_verification(decision, sender, text, table, base, keyword, target)
    elif interfaced:
        state = decide_interface(decision, text.words, text.pin, sender.access, interface, now, base)
    elif answered:
        _already_answered(decision, sender, text, table, verifications.already_answered, base)
    elif sender.open:
        _answer_verification(decision, sender, text, table, base, None, target)
    elif overdue is not None and msg.carrier_received_at is not None:
        _late_answer(decision, overdue, text, table, base)
    elif sender.dispatches:
        dispatch = sender.dispatches[0]
        contact_id = dispatch.recipients[0][0] if dispatch.recipients else sender.contacts[0].id
        decision.log.append(LogEntry(code=DEFAULT_RESPONSE_CODE, site_id=dispatch.site_id, contact_id=contact_id,
                                     comment=text.stored, details={"dispatch_id": dispatch.id}, **base))
    else:
        catch_all = table.known_sender if sender.contacts else table.unknown_sender
        contact = sender.contacts[0] if sender.contacts else None
        decision.log.append(LogEntry(code=catch_all.code, site_id=contact.site_id if contact else None,
                                     contact_id=contact.id if contact else None, comment=text.stored, **base))
        if catch_all.reply:
            decision.replies.append(render(catch_all.reply, {"central_station": table.central_station}))
    if text.pin is PinCheck.DURESS and not interfaced:  # "NO <duress PIN>" to an alarm: what it exists for
        decision.log.append(_duress(sender, interface, base))
    state = apply_reply_budget(decision, state, interface, now, base)
    if state != loaded:
        decision.interface_state = state
    if msg.carrier_received_at is not None:
        late = {"late": True, "carrier_received_at": isoformat(msg.carrier_received_at)}
        decision.log = [msgspec.structs.replace(e, details={**(e.details or {}), **late}) for e in decision.log]
    return decision


def _late_answer(decision: Decision, overdue: tuple[Verification, int], text: Text, table: KeywordTable,
                 base: dict) -> None:
    """A text the carrier took while a verification was open, seen only after its timeout. The alarm has been
    handled as unanswered by then, so the answer neither counts nor is thanked; the row tells the station what
    the contact said, and when (the carrier's time, marked on every row of a late text)."""
    verification, contact_id = overdue
    process = table.process(verification.process)
    keyword = process.match(text.words) if process else None
    details = {"timeout_at": isoformat(verification.timeout_at), "status": verification.status}
    if keyword is not None:
        details.update(keyword=keyword.word, outcome=keyword.outcome)
    decision.log.append(LogEntry(code=codes.LATE_REPLY, site_id=verification.site_id, contact_id=contact_id,
                                 verification_id=verification.id, event_id=verification.event_id,
                                 comment=text.stored, details=details, **base))


def _duress(sender: Sender, interface: Interface, base: dict) -> LogEntry:
    """The duress row for a text outside the interface: about the alarm it answers, if any."""
    contact = sender.access.contact
    if sender.open:
        verification = sender.open[0][0]
        return duress_entry(interface, contact_id=contact.id, site_id=verification.site_id,
                            verification_id=verification.id, event_id=verification.event_id, **base)
    return duress_entry(interface, contact_id=contact.id, site_id=contact.site_id, **base)


def _keyword(sender: Sender, text: Text, table: KeywordTable) -> Keyword | None:
    if not sender.open:
        return None
    process = table.process(sender.open[0][0].process)
    return process.match(text.words) if process else None


def _already_answered(decision: Decision, sender: Sender, text: Text, table: KeywordTable, template: str,
                      base: dict) -> None:
    """A reply to a verification another contact (or this one) already confirmed or cancelled."""
    verification, contact_id = sender.open[0]
    process = table.process(verification.process)
    decision.log.append(LogEntry(
        code=process.response_code if process else DEFAULT_RESPONSE_CODE, site_id=verification.site_id,
        contact_id=contact_id, verification_id=verification.id, event_id=verification.event_id, comment=text.stored,
        details={"already": verification.response, "by": verification.responded_by}, **base))
    site = sender.sites.get(verification.site_id)
    key = alarm_key(verification)
    ref = next((h.ref for h in sender.refs if h.alarm_key == key), None)
    hint = still_open(sender.refs, sender.open, table, sender.sites, sender.alarms, base["at"], but=key)
    named = answered_value(ref if hint else None, site, sender.alarms.get(verification.event_id or ""))
    decision.replies.append(render(template, {
        "site_name": site.name if site else "", "response": verification.response or "answered",
        "responder": verification.responder_name or "another contact", "answered": named})
        + ("" if "answered" in placeholders(template) else named) + hint)


def record_response(decision: Decision, verification: Verification, contact_id: int, response: str,
                    at: datetime, *, duress: bool = False) -> None:
    """The first decisive answer resolves ``verification`` for every recipient; subscribers hear of it.

    An answer given with the duress PIN stands as given (the phone must see nothing else), and the
    notification says ``duress: true``: a cancel forced at the door is no reason to stand down.
    """
    decision.responses.append(VerificationResponse(
        verification_id=verification.id, contact_id=contact_id, response=response, at=at))
    data = {"verification_id": verification.id, "event_id": verification.event_id, "site_id": verification.site_id,
            "contact_id": contact_id, "response": response, "responded_at": isoformat(at)}
    if duress:
        data["duress"] = True
    decision.notifications.append(Notification(event_type="verification.responded", at=at, data=data))


def _answer_verification(decision: Decision, sender: Sender, text: Text, table: KeywordTable, base: dict,
                         keyword: Keyword | None, target: Target) -> None:
    verification, contact_id = sender.open[0]
    contact = next((c for c in sender.contacts if c.id == contact_id), sender.contacts[0])
    process = table.process(verification.process)
    row = dict(site_id=verification.site_id, contact_id=contact.id, verification_id=verification.id,
               event_id=verification.event_id, **base)
    pin_code = process.pin_response_code if process else DEFAULT_RESPONSE_CODE
    slot = slot_details(contact)  # so the automation platform files the answer under the contact's slot
    if target.ref is not None:  # one of several open alarms: which one, and how the reply named it
        slot = {**slot, "ref": target.ref, "chosen_by": target.chosen_by}
    if keyword is None:
        code = pin_code if text.pin.authenticated else (process.response_code if process else DEFAULT_RESPONSE_CODE)
        decision.log.append(LogEntry(code=code, comment=text.stored, details=slot or None, **row))
        return
    decision.log.append(LogEntry(code=keyword.code, comment=text.stored,
                                 details={"keyword": keyword.word, "outcome": keyword.outcome, **slot}, **row))
    if text.pin.authenticated:
        decision.log.append(LogEntry(code=pin_code, comment=text.stored, details={"keyword": keyword.word, **slot},
                                     **row))
    response = OUTCOME_RESPONSES.get(keyword.outcome)
    if response:
        duress = text.pin is PinCheck.DURESS
        record_response(decision, verification, contact.id, response, base["at"], duress=duress)
        # Several auto processes may fire for one alarm: one "YES" answers all of them, not one at random.
        for sibling, sibling_contact in sender.open[1:]:
            if sibling.event_id and sibling.event_id == verification.event_id and sibling.status != "responded":
                record_response(decision, sibling, sibling_contact, response, base["at"], duress=duress)
                decision.log.append(LogEntry(code=keyword.code, comment=text.stored, **{
                    **row, "verification_id": sibling.id, "contact_id": sibling_contact},
                    details={"keyword": keyword.word, "outcome": keyword.outcome, **slot}))
    if keyword.reply:
        site = sender.sites.get(verification.site_id)
        alarm = sender.alarms.get(verification.event_id or "")
        values = alert_values(site=site, alarm=alarm, contact=contact, process=process,
                              central_station=table.central_station, now=base["at"]) if site else {}
        named = answered_value(target.ref, site, alarm)
        reply = render(keyword.reply, {**values, "ref": ref_value(target.ref), "answered": named})
        # Several alarms open: the reply names the one it answered, worded by the station or else added here.
        decision.replies.append(reply if placeholders(keyword.reply) & {"ref", "answered"} else reply + named)
