"""What a trace tells, as records: the steps of a story (texts in and out with their status
history, event-log rows, verifications), oldest first, and how stored rows become them.

A text's status history is derived from what the outbox keeps: queued at ``created_at``, sent at
``sent_at``, each carrier report with its time, and the end the gateway gave it (failed, stale,
cancelled) at ``updated_at``. The event-log rows that say the same (the SMSSENT-like row of each
recipient, SMSFAIL and SMSSTALE naming the text's ``outbox_id``) are folded into the text.
No PIN can be in it: every text and row was masked before it was stored (README, "No PIN
stored"), the interface's pending command never holds one and is not shown, and a contact's PIN
hashes are never read out (only whether it has a PIN, and when that expires).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from gateway.core.carrier_errors import explain
from gateway.core.diagnosis import Diagnosis, LastText
from gateway.model import LogRow, Verification
from gateway.services.alarm_board import state_of
from gateway.stores import InboundText, OutboundText


class ErrorWords(msgspec.Struct, frozen=True):
    code: str
    title: str
    meaning: str
    advice: str


class Status(msgspec.Struct, frozen=True):
    status: str  # queued, sent, stale, failed, cancelled; or a carrier report (by carrier)
    at: datetime
    by: str  # gateway | carrier
    error_code: str | None = None


class TextOut(msgspec.Struct, frozen=True, tag="text_out", tag_field="type"):
    at: datetime
    id: int
    kind: str  # verification, reply, dispatch, notice, welcome
    channel: str
    to: str
    body: str
    status: str  # as the outbox has it now
    carrier: str | None  # the one it was handed to
    history: list[Status]
    attempts: int
    contact_id: int | None
    verification_id: str | None
    error: ErrorWords | None  # the carrier's code in words, for a text that did not get through
    last_error: str | None  # what the carrier or the gateway last said, as recorded


class TextIn(msgspec.Struct, frozen=True, tag="text_in", tag_field="type"):
    at: datetime
    id: int
    body: str
    codes: list[str]  # what the gateway logged it as (SMSYES, SMSIN ...)
    replies: list[str]  # sent back inline


class Logged(msgspec.Struct, frozen=True, tag="log", tag_field="type"):
    at: datetime
    id: int
    code: str
    comment: str | None
    site_id: str | None
    contact_id: int | None
    verification_id: str | None
    details: dict[str, Any] | None


class VerificationStep(msgspec.Struct, frozen=True, tag="verification", tag_field="type"):
    at: datetime
    id: str
    site_id: str
    site_name: str
    event_id: str | None
    process: str
    method: str
    status: str  # as stored: pending, sent, delivered, failed, responded, expired
    state: str  # in a word, for people: waiting, confirmed, cancelled, expired, undelivered
    response: str | None
    responded_by: str | None
    responded_at: datetime | None
    timeout_at: datetime | None  # None for a notice


Step = TextOut | TextIn | Logged | VerificationStep


class DiagnosisLine(msgspec.Struct, frozen=True):
    code: str
    line: str
    ok: bool

    @classmethod
    def of(cls, d: Diagnosis) -> DiagnosisLine:
        return cls(d.code, d.line, d.ok)


def text_out(t: OutboundText) -> TextOut:
    history = [Status("queued", t.created_at, "gateway")]
    if t.sent_at is not None:
        history.append(Status("sent", t.sent_at, "gateway"))
    history += [Status(r.status, r.at, "carrier", r.error_code) for r in t.reports]
    carrier_final = any(r.status in ("delivered", "undelivered", "failed", "canceled", "read") for r in t.reports)
    end = {"failed": "failed", "expired": "stale", "cancelled": "cancelled"}.get(t.status)
    if end and not carrier_final:
        history.append(Status(end, t.updated_at, "gateway", t.error_code))
    failed = t.status in ("failed", "undelivered")
    return TextOut(at=t.created_at, id=t.id, kind=t.kind, channel=t.channel, to=t.to_phone or t.to_address or "",
                   body=t.body, status=t.status, carrier=t.carrier, history=history, attempts=t.attempts,
                   contact_id=t.contact_id, verification_id=t.verification_id,
                   error=ErrorWords(*explain(t.error_code)) if failed else None,
                   last_error=t.error)


def last_text(texts: Sequence[TextOut]) -> LastText | None:
    """The newest text that is not an inline reply (else the newest reply) and where it got to."""
    chosen = next((t for t in reversed(texts) if t.kind != "reply"), texts[-1] if texts else None)
    if chosen is None:
        return None
    return LastText(status=chosen.status, at=chosen.history[-1].at,
                    error_code=chosen.error.code or None if chosen.error else None, carrier=chosen.carrier)


def logged(row: LogRow) -> Logged:
    return Logged(at=row.at, id=row.id, code=row.code, comment=row.comment,
                  site_id=row.site_id, contact_id=row.contact_id, verification_id=row.verification_id,
                  details=row.details)


def verification_step(v: Verification, site_name: str, now: datetime) -> VerificationStep:
    return VerificationStep(at=v.created_at, id=v.id, site_id=v.site_id, site_name=site_name, event_id=v.event_id,
                            process=v.process, method=v.method, status=v.status,
                            state=state_of(v, now) if v.require_response else "notice", response=v.response,
                            responded_by=v.responder_name or None, responded_at=v.responded_at,
                            timeout_at=v.timeout_at if v.require_response else None)


def steps_of(outbound: Iterable[OutboundText], inbound: Iterable[InboundText], rows: Iterable[LogRow],
             verifications: Iterable[VerificationStep] = ()) -> list[Step]:
    """One story, oldest first: each inbound text with the codes it was logged as and its inline replies,
    each text out with its history, and the rows that say something the texts do not."""
    outbound, rows = list(outbound), list(rows)
    replies: dict[int, list[str]] = {}
    texts = []
    for t in outbound:
        if t.inbound_id is not None:
            replies.setdefault(t.inbound_id, []).append(t.body)
        else:
            texts.append(text_out(t))
    shown = {t.id for t in texts}
    sent_to = {(t.contact_id, t.verification_id, t.channel) for t in texts}
    said: set[int] = set()
    ins = []
    for t in inbound:
        own = [r for r in rows if r.at == t.received_at and r.phone == t.from_phone and r.comment == t.body]
        said.update(r.id for r in own)
        ins.append(TextIn(at=t.received_at, id=t.id, body=t.body, codes=list(dict.fromkeys(r.code for r in own)),
                          replies=replies.get(t.id, [])))
    kept = [logged(r) for r in rows if r.id not in said and not _told_by_a_text(r, shown, sent_to)]
    order = {TextIn: 0, VerificationStep: 1, Logged: 2, TextOut: 3}
    return sorted([*ins, *verifications, *kept, *texts], key=lambda s: (s.at, order[type(s)], s.id))


def _told_by_a_text(row: LogRow, shown: set[int], sent_to: set[tuple]) -> bool:
    details = row.details or {}
    if details.get("outbox_id") in shown:
        return True
    # The row each recipient of an alarm or dispatch gets says what its outbox text says.
    return details.get("recipient") is not None and (
        row.contact_id, row.verification_id, details.get("method", "sms")) in sent_to
