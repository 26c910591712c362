"""What the gateway knows about phone numbers: opt-outs (STOP / START) and cached lookups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gateway.model import LogEntry, PhoneLookup
from gateway.stores.connector import Body, Op
from gateway.stores.manager.base import StoreBase, write_log


class PhoneStore(StoreBase):
    # Opt-outs (STOP / START)
    async def opted_out(self, phone: str) -> bool:
        """True when ``phone`` asked (STOP) not to be texted and has not asked back in (START)."""
        row = await self.db.fetch("get_opt_out", phone=phone)
        return bool(row and row["opted_out"])

    async def set_opt_out(self, phone: str, opted_out: bool, source: str, now: datetime,
                          log: Sequence[LogEntry]) -> bool:
        """Record that ``phone`` opted out (or back in); log ``log`` only when that changed anything."""
        return await self.db.transaction(_set_opt_out, phone, opted_out, source, now, log)

    # Number lookups
    async def cached_lookup(self, phone: str) -> PhoneLookup | None:
        row = await self.db.fetch("get_phone_lookup", phone=phone)
        if row is None:
            return None
        return PhoneLookup(phone=row["phone"], valid=bool(row["valid"]), line_type=row["line_type"],
                           carrier_name=row["carrier_name"], looked_up_at=row["looked_up_at"])

    async def save_lookup(self, lookup: PhoneLookup) -> None:
        """Cache ``lookup`` and mark every contact with that phone valid, invalid or unknown."""
        await self.db.transaction(_save_lookup, lookup)


def _set_opt_out(phone: str, opted_out: bool, source: str, now: datetime, log: Sequence[LogEntry]) -> Body[bool]:
    row = yield Op("get_opt_out", {"phone": phone})
    if bool(row and row["opted_out"]) == opted_out:
        return False
    yield Op("upsert_opt_out", {"phone": phone, "opted_out": opted_out, "source": source, "changed_at": now})
    yield from write_log(log)
    return True


def _save_lookup(lookup: PhoneLookup) -> Body[None]:
    yield Op("upsert_phone_lookup", {"phone": lookup.phone, "valid": lookup.valid, "line_type": lookup.line_type,
                                     "carrier_name": lookup.carrier_name, "looked_up_at": lookup.looked_up_at})
    yield Op("set_phone_status", {"phone": lookup.phone, "phone_status": lookup.phone_status,
                                  "line_type": lookup.line_type})
