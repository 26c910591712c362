"""Call lists: the verifications with a step or a held contact due, and reaching them, once each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import msgspec

from gateway.core.call_list import DUE, Reached
from gateway.core.reply_refs import HeldRef
from gateway.errors import StaleDecision
from gateway.model import AlarmEvent, Contact, Site, Verification
from gateway.stores.connector import Body, Op
from gateway.stores.manager.base import StoreBase, outbound_row, write_log
from gateway.stores.records import (
    alarm_from_row, contact_from_row, held_ref_from_row, site_from_row, verification_from_row,
)


@dataclass(frozen=True)
class CallListView:
    """What the store read for one due call list: the verification, its site, alarm, contacts and opt-outs."""

    verification: Verification
    site: Site
    alarm: AlarmEvent | None
    contacts: dict[int, Contact]
    opted_out: frozenset[str]
    held: dict[str, list[HeldRef]]  # the reply references the contacts' phones hold


class CallListStore(StoreBase):
    async def due_call_lists(self, now: datetime, limit: int = 100) -> list[str]:
        """The ids of open verifications with a recipient due by ``now`` (a step, or quiet hours ended)."""
        return [r["id"] for r in await self.db.fetch("due_call_lists", now=now, limit=limit)]

    async def next_call_list_due(self) -> datetime | None:
        """When the next recipient of an open verification falls due (None: none is scheduled)."""
        row = await self.db.fetch("next_call_list_due")
        return row["due_at"] if row else None

    async def reach_call_list(self, verification_id: str, now: datetime,
                              plan: Callable[[CallListView], Reached | None]) -> Reached | None:
        """Lock the verification (another daemon's is skipped), read it with what ``plan`` needs, and write
        what ``plan`` decided in the same transaction: each step is reached once. None: not open, or taken."""
        return await self.db.transaction(_reach, verification_id, now, plan)


def _reach(verification_id: str, now: datetime, plan: Callable[[CallListView], Reached | None]) -> Body[Reached | None]:
    row = yield Op("lock_call_list", {"id": verification_id})
    if row is None:
        return None
    verification = verification_from_row(row, (yield Op("verification_recipients",
                                                         {"verification_id": verification_id})))
    contacts: dict[int, Contact] = {}
    opted_out = set()
    for contact_id in {r.contact_id for r in verification.recipients}:
        found = yield Op("get_contact", {"id": contact_id})
        if found is not None:
            contacts[contact_id] = contact_from_row(found)
            phone = contacts[contact_id].phone
            if phone and (state := (yield Op("get_opt_out", {"phone": phone}))) and state["opted_out"]:
                opted_out.add(phone)
    site = site_from_row((yield Op("get_site", {"id": verification.site_id})))
    alarm_row = (yield Op("get_alarm_event", {"id": verification.event_id})) if verification.event_id else None
    held = {}  # the references of the phones a text of this list may still reach (the pure part picks from them)
    texted = {contacts[r.contact_id].phone for r in verification.recipients
              if r.channel == "sms" and r.status in DUE and r.contact_id in contacts}
    for phone in sorted(p for p in texted if p) if verification.require_response else ():
        held[phone] = [held_ref_from_row(r) for r in (yield Op("reply_refs_for_phone", {"phone": phone, "now": now}))]
    reached = plan(CallListView(verification, site, alarm_from_row(alarm_row) if alarm_row else None, contacts,
                                frozenset(opted_out), held))
    if reached is None:
        return None
    for ref in reached.reply_refs:
        if (yield Op("hold_reply_ref", msgspec.structs.asdict(ref))) is None:
            # An alarm took this reference for the phone since it was read: this pass writes nothing, the next
            # one reads the references again.
            raise StaleDecision(f"reply reference {ref.ref} of {ref.phone} is taken", verification_id=verification_id)
    for r in reached.recipients:
        yield Op("update_recipient_step", {"verification_id": verification_id, "contact_id": r.contact_id,
                                           "channel": r.channel, "status": r.status, "error": r.error,
                                           "due_at": r.due_at})
    if reached.timeout_at is not None and reached.timeout_at != verification.timeout_at:
        yield Op("set_verification_timeout", {"id": verification_id, "timeout_at": reached.timeout_at})
    if reached.outbound:
        yield Op("insert_outbound", [outbound_row(m, now) for m in reached.outbound])
    yield from write_log(reached.log)
    return reached
