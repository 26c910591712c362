"""Receiving one alarm event: run the auto processes it triggers and queue their texts."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

import msgspec

from gateway.core.autoprocess import decide_alarm
from gateway.core.call_list import plain
from gateway.clock import Clock
from gateway.core.keywords import KeywordTable
from gateway.daemon.metrics import Metrics
from gateway.model import AlarmEvent, Contact, Verification
from gateway.services.fresh import commit_fresh
from gateway.services.ordering import KeyedLocks
from gateway.services.sites import find_site
from gateway.stores import Store

log = logging.getLogger(__name__)


class AlarmResult(msgspec.Struct, frozen=True):
    event_id: str
    duplicate: bool
    verifications: list[Verification]
    codes: list[str]


class AlarmService:
    def __init__(self, store: Store, table: Callable[[], KeywordTable], clock: Clock, metrics: Metrics,
                 from_phone: str, wake_sender: Callable[[], None], locks: KeyedLocks | None = None) -> None:
        self.store = store
        self.locks = locks  # the inbound texts' per-number locks: an alarm picks its phones' references in turn
        self.table = table
        self.clock = clock
        self.metrics = metrics
        self.from_phone = from_phone
        self.wake_sender = wake_sender

    async def _opted_out(self, table: KeywordTable, alarm: AlarmEvent, contacts: list[Contact]) -> frozenset[str]:
        """The contacts' numbers that opted out, when a call list will skip them (all at once: the sender does)."""
        if all(plain(p.call_list) for p in table.processes_for(alarm.event_code)):
            return frozenset()
        return frozenset([c.phone for c in contacts if c.phone and await self.store.opted_out(c.phone)])

    async def receive(self, *, site_id: str, event_code: str, event_id: str | None = None, zone: str | None = None,
                      text: str | None = None, trace_id: str | None = None) -> AlarmResult:
        """Record the alarm, open its verifications and queue their texts, all in one transaction.

        The same ``event_id`` twice queues nothing the second time.
        """
        site = await find_site(self.store, site_id)
        alarm = AlarmEvent(id=event_id or "evt_" + secrets.token_hex(8), site_id=site.id,
                           event_code=event_code.strip().upper(), zone=zone, text=text, received_at=self.clock.now())
        contacts = await self.store.list_contacts(site.id)
        phones = [c.phone for c in contacts if c.auto_notify and c.phone]
        table = self.table()
        opted_out = await self._opted_out(table, alarm, contacts)

        async def decide():
            # The reply references the contacts' phones hold: a second open alarm's text says which it is.
            held = await self.store.reply_refs(phones, alarm.received_at) if phones else {}
            return decide_alarm(alarm, site, contacts, table, now=alarm.received_at, from_phone=self.from_phone,
                                trace_id=trace_id, held=held, opted_out=opted_out)
        decision, result = await commit_fresh(self.store, decide, f"alarm {alarm.id}", locks=self.locks,
                                              phones=phones)
        if result.duplicate:
            log.info("trace=%s alarm %s for site %s: duplicate, ignored", trace_id, alarm.id, site.id)
            return AlarmResult(alarm.id, True, [], [])
        self.metrics.logged(decision.log)
        if decision.outbound:
            self.wake_sender()
        log.info("trace=%s alarm %s %s for site %s: %d verification(s), %d text(s) queued", trace_id, alarm.id,
                 alarm.event_code, site.id, len(decision.opened), len(decision.outbound))
        return AlarmResult(alarm.id, False, decision.opened, [e.code for e in decision.log])
