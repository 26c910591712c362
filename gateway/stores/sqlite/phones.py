"""Opt-outs (STOP / START) and cached number lookups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gateway.clock import parse_isoformat
from gateway.model import LogEntry, PhoneLookup
from gateway.stores.records import OptOutState
from gateway.stores.sqlite.engine import SQLiteEngine
from gateway.stores.sqlite.queries import QUERIES, _t


class SQLitePhones(SQLiteEngine):
    """``PhoneStore`` (gateway/stores/base/phones.py) on SQLite."""

    # Opt-outs (STOP / START)
    async def opted_out(self, phone: str) -> bool:
        row = await QUERIES.get_opt_out(self._read, phone=phone)
        return bool(row and row["opted_out"])

    async def opt_out_state(self, phone: str) -> OptOutState | None:
        row = await QUERIES.get_opt_out(self._read, phone=phone)
        if row is None:
            return None
        return OptOutState(phone=row["phone"], opted_out=bool(row["opted_out"]), source=row["source"],
                           changed_at=parse_isoformat(row["changed_at"]))

    async def set_opt_out(self, phone: str, opted_out: bool, source: str, now: datetime,
                          log: Sequence[LogEntry]) -> bool:
        async with self._transaction() as conn:
            row = await QUERIES.get_opt_out(conn, phone=phone)
            if bool(row and row["opted_out"]) == opted_out:
                return False
            await QUERIES.upsert_opt_out(conn, phone=phone, opted_out=int(opted_out), source=source,
                                         changed_at=_t(now))
            await self._insert_log(conn, log)
        return True

    # Number lookups
    async def cached_lookup(self, phone: str) -> PhoneLookup | None:
        row = await QUERIES.get_phone_lookup(self._read, phone=phone)
        if row is None:
            return None
        return PhoneLookup(phone=row["phone"], valid=bool(row["valid"]), line_type=row["line_type"],
                           carrier_name=row["carrier_name"], looked_up_at=parse_isoformat(row["looked_up_at"]))

    async def save_lookup(self, lookup: PhoneLookup) -> None:
        async with self._transaction() as conn:
            await QUERIES.upsert_phone_lookup(conn, phone=lookup.phone, valid=int(lookup.valid),
                                              line_type=lookup.line_type, carrier_name=lookup.carrier_name,
                                              looked_up_at=_t(lookup.looked_up_at))
            await QUERIES.set_phone_status(conn, phone=lookup.phone, phone_status=lookup.phone_status,
                                           line_type=lookup.line_type)
