"""Inbound text in, decision out. Pure: no I/O, no carrier, no database.

The order of questions for one text:
1. Is the number a contact at all? If not, the catch-all for unknown senders.
2. Does it answer an open verification (newest first)? Then the keyword table of that
   verification's auto process decides: a keyword logs its code and sends its reply; any
   other text logs the process's response code (its PIN-response code when the text carried
   the contact's PIN).
3. Otherwise an ordinary inbound message from a known contact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gateway.autoprocess import alert_values
from gateway.keywords import KeywordTable
from gateway.model import AlarmEvent, Contact, Decision, InboundMessage, LogEntry, Site, Verification, VerificationResponse
from gateway.pin import PinCheck
from gateway.templates import render

OUTCOME_RESPONSES = {"confirm": "confirmed", "cancel": "cancelled"}
DEFAULT_RESPONSE_CODE = "SMSReply"


@dataclass(frozen=True)
class Sender:
    """What the store knows about the number a text came from."""

    contacts: Sequence[Contact] = ()
    open: Sequence[tuple[Verification, int]] = ()  # newest first, with the recipient contact id
    sites: Mapping[str, Site] = field(default_factory=dict)
    alarms: Mapping[str, AlarmEvent] = field(default_factory=dict)


@dataclass(frozen=True)
class Text:
    """The text split for deciding: the words without a PIN, and the body as it may be stored."""

    words: str
    stored: str
    pin: PinCheck = PinCheck.ABSENT


def decide_inbound(msg: InboundMessage, sender: Sender, text: Text, table: KeywordTable,
                   trace_id: str | None = None) -> Decision:
    """What to log, answer and change for one inbound text. ``msg.body`` must already be masked."""
    decision = Decision(inbound=msg)
    base = dict(at=msg.received_at, phone=msg.from_phone, trace_id=trace_id)
    if not sender.contacts:
        decision.log.append(LogEntry(code=table.unknown_sender.code, comment=text.stored, **base))
        if table.unknown_sender.reply:
            decision.replies.append(render(table.unknown_sender.reply, {"central_station": table.central_station}))
        return decision
    if sender.open:
        _answer_verification(decision, sender, text, table, base)
        return decision
    contact = sender.contacts[0]
    decision.log.append(LogEntry(code=table.known_sender.code, site_id=contact.site_id, contact_id=contact.id,
                                 comment=text.stored, **base))
    if table.known_sender.reply:
        decision.replies.append(render(table.known_sender.reply, {"central_station": table.central_station}))
    return decision


def _answer_verification(decision: Decision, sender: Sender, text: Text, table: KeywordTable, base: dict) -> None:
    verification, contact_id = sender.open[0]
    contact = next((c for c in sender.contacts if c.id == contact_id), sender.contacts[0])
    process = table.process(verification.process)
    row = dict(site_id=verification.site_id, contact_id=contact.id, verification_id=verification.id,
               event_id=verification.event_id, **base)
    keyword = process.match(text.words) if process else None
    pin_code = process.pin_response_code if process else DEFAULT_RESPONSE_CODE
    if keyword is None:
        code = pin_code if text.pin.authenticated else (process.response_code if process else DEFAULT_RESPONSE_CODE)
        decision.log.append(LogEntry(code=code, comment=text.stored, **row))
        return
    decision.log.append(LogEntry(code=keyword.code, comment=text.stored,
                                 details={"keyword": keyword.word, "outcome": keyword.outcome}, **row))
    if text.pin.authenticated:
        decision.log.append(LogEntry(code=pin_code, comment=text.stored, details={"keyword": keyword.word}, **row))
    response = OUTCOME_RESPONSES.get(keyword.outcome)
    if response:
        decision.responses.append(VerificationResponse(
            verification_id=verification.id, contact_id=contact.id, response=response, at=base["at"]))
    if keyword.reply:
        site = sender.sites.get(verification.site_id)
        values = alert_values(site=site, alarm=sender.alarms.get(verification.event_id or ""), contact=contact,
                              process=process, central_station=table.central_station,
                              now=base["at"]) if site else {}
        decision.replies.append(render(keyword.reply, values))
