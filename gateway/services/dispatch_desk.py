"""The console's Dispatch SMS: the form (templates, the text to edit, who can be texted) and a sent
dispatch with the replies in its window. Sending is the Dispatch SMS service's (services/verifications.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gateway.clock import Clock
from gateway.core.keywords import DispatchTemplate, KeywordTable
from gateway.model import Contact, Dispatch, LogRow
from gateway.stores import Store

LOG_LIMIT = 500


@dataclass(frozen=True)
class Reachable:
    contact: Contact
    reason: str | None  # why it cannot be texted (no phone, opted out); None when it can


@dataclass(frozen=True)
class DispatchForm:
    templates: list[DispatchTemplate]
    template: DispatchTemplate | None  # the one picked
    contacts: list[Reachable]


@dataclass(frozen=True)
class SentDispatch:
    dispatch: Dispatch
    sent: list[LogRow]  # one per recipient: its exact text
    replies: list[LogRow]  # the replies in its window, oldest first
    window_open: bool


class DispatchDesk:
    def __init__(self, store: Store, table: Callable[[], KeywordTable], clock: Clock) -> None:
        self.store, self.table, self.clock = store, table, clock

    async def form(self, site_id: str, template: str | None) -> DispatchForm:
        table = self.table()
        contacts = []
        for c in await self.store.list_contacts(site_id):
            reason = None if c.phone else "no phone number"
            if reason is None and await self.store.opted_out(c.phone):
                reason = "opted out (STOP)"
            contacts.append(Reachable(c, reason))
        return DispatchForm(templates=list(table.dispatch_templates.values()),
                            template=table.dispatch_templates.get(template) if template else None, contacts=contacts)

    async def sent(self, site_id: str, dispatch_id: str) -> SentDispatch | None:
        dispatch = await self.store.get_dispatch(dispatch_id)
        if dispatch is None or dispatch.site_id != site_id:
            return None
        rows = await self.store.dispatch_log(site_id, dispatch_id, LOG_LIMIT)
        sent = [r for r in rows if (r.details or {}).get("recipient") is not None]
        return SentDispatch(dispatch=dispatch, sent=sent, replies=[r for r in rows if r not in sent],
                            window_open=self.clock.now() < dispatch.reply_until)
