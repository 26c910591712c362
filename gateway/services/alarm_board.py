"""The console's live alarms: recent verifications with each recipient's state, and one alarm's notice
(who was texted what, and everything logged about it since)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from gateway import codes
from gateway.clock import Clock
from gateway.core.carrier_errors import in_words
from gateway.model import Contact, LogRow, Verification
from gateway.stores import Store

WINDOW = timedelta(hours=24)  # the board shows alarms opened this recently ...
LIMIT = 50  # ... at most this many, newest first
LOG_LIMIT = 500  # rows of one alarm's story


@dataclass(frozen=True)
class RecipientLine:
    contact_id: int
    name: str
    channel: str
    address: str | None  # the phone or email it went to
    status: str  # pending, sent, delivered, failed, removed
    error: str | None  # why it failed, the carrier's code in words when there is one
    response: str | None
    text: str | None  # exactly what was sent to this recipient


@dataclass(frozen=True)
class Alarm:
    verification: Verification
    site_name: str
    state: str  # waiting, confirmed, cancelled, expired, undelivered
    recipients: list[RecipientLine]
    log: list[LogRow]  # oldest first; only for one alarm's notice


def state_of(v: Verification, now: datetime) -> str:
    """What an operator needs to know of a verification, in one word."""
    if v.status == "responded":
        return v.response or "answered"
    if v.status == "expired" or v.timeout_at <= now:
        return "expired"
    return "undelivered" if v.status == "failed" else "waiting"


class AlarmBoard:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock

    async def recent(self) -> list[Alarm]:
        """Alarms of the last day, newest first; waiting ones are the live ones."""
        now = self.clock.now()
        sites: dict[str, tuple[str, dict[int, Contact]]] = {}
        alarms = []
        for v in await self.store.verifications_since(now - WINDOW, LIMIT):
            if v.site_id not in sites:
                sites[v.site_id] = await self._site(v.site_id)
            name, contacts = sites[v.site_id]
            alarms.append(Alarm(verification=v, site_name=name, state=state_of(v, now),
                                recipients=_recipients(v, contacts, []), log=[]))
        return alarms

    async def notice(self, site_id: str, verification_id: str) -> Alarm | None:
        """One alarm of ``site_id`` with each recipient's exact text and its rows; None when not that site's."""
        v = await self.store.get_verification(verification_id)
        if v is None or v.site_id != site_id:
            return None
        name, contacts = await self._site(site_id)
        log = await self.store.verification_log(site_id, verification_id, LOG_LIMIT)
        if v.responded_by is not None and v.responded_by in contacts:
            v = _with_responder(v, contacts[v.responded_by])
        return Alarm(verification=v, site_name=name, state=state_of(v, self.clock.now()),
                     recipients=_recipients(v, contacts, log), log=log)

    async def _site(self, site_id: str) -> tuple[str, dict[int, Contact]]:
        site = await self.store.get_site(site_id)
        return (site.name if site else site_id), {c.id: c for c in await self.store.list_contacts(site_id)}


def _with_responder(v: Verification, contact: Contact) -> Verification:
    return msgspec.structs.replace(v, responder_name=contact.name)


def _recipients(v: Verification, contacts: dict[int, Contact], log: list[LogRow]) -> list[RecipientLine]:
    texts = {(r.contact_id, (r.details or {}).get("method", "sms")): r.comment for r in log
             if (r.details or {}).get("recipient") is not None}
    error_codes = {r.contact_id: (r.details or {}).get("error_code") for r in log if r.code == codes.SEND_FAILED}
    lines = []
    for r in v.recipients:
        contact = contacts.get(r.contact_id)
        error = r.error
        if r.status == "failed" and error_codes.get(r.contact_id):
            error = in_words(error_codes[r.contact_id])
        lines.append(RecipientLine(
            contact_id=r.contact_id, name=contact.name if contact else f"contact {r.contact_id} (deleted)",
            channel=r.channel, address=r.phone if r.channel == "sms" else r.email, status=r.status, error=error,
            response=r.response, text=texts.get((r.contact_id, r.channel))))
    return lines
