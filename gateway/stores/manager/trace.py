"""What the operator console and ``gateway trace`` read: a site's recent verifications and failures, one
verification's, dispatch's, alarm's or number's rows and texts, with their carrier's reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from gateway.model import AlarmEvent, Dispatch, InterfaceState, LogRow, Verification
from gateway.stores.connector import Body, Op
from gateway.stores.manager.base import StoreBase
from gateway.stores.records import (
    FailedText, InboundText, OptOutState, OutboundText, alarm_from_row, dispatch_from_row, failed_text_from_row,
    inbound_text_from_row, interface_state_from_row, log_row_from_row, outbound_text_from_row, verification_from_row,
)


class TraceStore(StoreBase):
    # The console
    async def verifications_since(self, since: datetime, limit: int) -> list[Verification]:
        """Verifications that wait for an answer opened at or after ``since``, newest first, with their
        recipients and responder's name (the console's live alarms)."""
        return await self.db.read(_with_recipients, "verifications_since", {"since": since, "limit": limit})

    async def verification_log(self, site_id: str, verification_id: str, limit: int) -> list[LogRow]:
        """The site's rows about one verification (its texts, answers, failures), oldest first."""
        return await self._log("verification_log", site_id=site_id, verification_id=verification_id, limit=limit)

    async def dispatch_log(self, site_id: str, dispatch_id: str, limit: int) -> list[LogRow]:
        """The site's rows about one Dispatch SMS (its texts and the replies in its window), oldest first."""
        return await self._log("dispatch_log", site_id=site_id, dispatch_id=dispatch_id, limit=limit)

    async def get_dispatch(self, dispatch_id: str) -> Dispatch | None:
        """The dispatch with its recipients (contact id, phone)."""
        return await self.db.read(_get_dispatch, dispatch_id)

    async def send_failures_since(self, since: datetime) -> dict[str, int]:
        """Texts (SMS) given up or reported undelivered since ``since``, counted by the carrier's error
        code ('' for none)."""
        return {r["error_code"]: r["n"] for r in await self.db.fetch("send_failures_since", since=since)}

    async def last_failed_texts(self, site_id: str) -> dict[int, FailedText]:
        """For each contact of the site that has one, its newest text (SMS) that failed or was undelivered."""
        return {r["contact_id"]: failed_text_from_row(r)
                for r in await self.db.fetch("last_failed_texts", site_id=site_id)}

    # gateway trace
    async def outbound_texts(self, *, phone: str | None = None, verification_id: str | None = None,
                             limit: int) -> list[OutboundText]:
        """The newest ``limit`` texts (SMS) to ``phone``, or the messages (SMS and email) of
        ``verification_id``, oldest first, each with its carrier's reports."""
        if (phone is None) == (verification_id is None):
            raise ValueError("outbound_texts: give phone or verification_id")
        if phone is not None:
            op = Op("outbound_texts_to_phone", {"phone": phone, "limit": limit})
        else:
            op = Op("outbound_of_verification", {"verification_id": verification_id, "limit": limit})
        return await self.db.read(_with_reports, op)

    async def inbound_texts(self, phone: str, limit: int) -> list[InboundText]:
        """The newest ``limit`` texts from ``phone``, oldest first."""
        return [inbound_text_from_row(r) for r in await self.db.fetch("inbound_texts_from_phone", phone=phone,
                                                                      limit=limit)]

    async def verifications_for_phone(self, phone: str, limit: int) -> list[Verification]:
        """The newest ``limit`` verifications texted to ``phone``, newest first, with their recipients and
        responder's name."""
        return await self.db.read(_with_recipients, "verifications_for_phone", {"phone": phone, "limit": limit})

    async def site_verifications(self, site_id: str, limit: int) -> list[Verification]:
        """The site's newest ``limit`` verifications (notices too), newest first, with their recipients and
        responder's name."""
        return await self.db.read(_with_recipients, "site_verifications", {"site_id": site_id, "limit": limit})

    async def phone_log(self, phone: str, limit: int) -> list[LogRow]:
        """The newest ``limit`` rows about ``phone`` (any site, or none), oldest first."""
        return await self._log("phone_log", phone=phone, limit=limit)

    async def alarm_log(self, site_id: str, event_id: str, limit: int) -> list[LogRow]:
        """The site's rows about one alarm event (the alarm, what it opened or why it opened nothing), oldest
        first."""
        return await self._log("alarm_log", site_id=site_id, event_id=event_id, limit=limit)

    async def opt_out_state(self, phone: str) -> OptOutState | None:
        """The number's last opt-out change (None: it never opted out)."""
        row = await self.db.fetch("get_opt_out", phone=phone)
        if row is None:
            return None
        return OptOutState(phone=row["phone"], opted_out=bool(row["opted_out"]), source=row["source"],
                           changed_at=row["changed_at"])

    async def interface_state(self, phone: str) -> InterfaceState | None:
        """The number's SMS-interface state (session, lockout, mute); None: it never had one."""
        row = await self.db.fetch("get_interface_state", phone=phone)
        return interface_state_from_row(row) if row else None

    async def last_alarm_event(self, site_id: str) -> AlarmEvent | None:
        """The newest alarm event the site received."""
        row = await self.db.fetch("get_last_alarm_event", site_id=site_id)
        return alarm_from_row(row) if row else None

    async def _log(self, query: str, **params: Any) -> list[LogRow]:
        return [log_row_from_row(r) for r in await self.db.fetch(query, **params)]


def _with_recipients(query: str, params: Mapping[str, Any]) -> Body[list[Verification]]:
    rows = yield Op(query, params)
    recipients: dict[str, list] = {r["id"]: [] for r in rows}
    if rows:
        for x in (yield Op("recipients_of_verifications", {"ids": list(recipients)})):
            recipients[x["verification_id"]].append(x)
    return [verification_from_row(r, recipients[r["id"]]) for r in rows]


def _with_reports(op: Op) -> Body[list[OutboundText]]:
    rows: Sequence[Mapping[str, Any]] = yield op
    reports: dict[int, list] = {r["id"]: [] for r in rows}
    if rows:
        for x in (yield Op("carrier_reports_of_outbound", {"ids": list(reports)})):
            reports[x["outbound_id"]].append(x)
    return [outbound_text_from_row(r, reports[r["id"]]) for r in rows]


def _get_dispatch(dispatch_id: str) -> Body[Dispatch | None]:
    row = yield Op("get_dispatch", {"id": dispatch_id})
    if row is None:
        return None
    recipients = tuple((r["contact_id"], r["phone"])
                       for r in (yield Op("dispatch_recipients", {"dispatch_id": dispatch_id})))
    return msgspec.structs.replace(dispatch_from_row(row), recipients=recipients)
