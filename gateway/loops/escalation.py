"""The escalation loop: the call lists of open verifications, a step at a time.

Each pass reaches every recipient due by now (the next contact of an in-order list whose step's seconds
ran out without a decisive answer, a step made due at once because everyone before it failed, or a
contact whose quiet hours ended). Its state is the store's (recipient rows with a step and a due time),
so a restart loses nothing, and each verification is worked on by one daemon at a time, once per step.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from gateway.clock import Clock
from gateway.core.call_list import Listing, Reached, reach
from gateway.core.keywords import AutoProcess, KeywordTable
from gateway.daemon.metrics import Metrics
from gateway.errors import StaleDecision, StoreUnavailable
from gateway.stores import Store
from gateway.stores.manager.call_lists import CallListView

log = logging.getLogger(__name__)
# A list whose process a reload removed still reaches its people, with a plain text and the default codes.
STAND_IN = AutoProcess("(removed process)", frozenset(), "{central_station}: ALARM at {site_name} {event_text} "
                       "zone {zone}. Reply YES to confirm or NO to cancel.", 300, "SMSSENT", "SMSReply",
                       "SMSPINReply", "SMSTIMEOUT", ())


class Escalation:
    def __init__(self, store: Store, table: Callable[[], KeywordTable], clock: Clock, metrics: Metrics,
                 poll_seconds: float, from_phone: str, wake_sender: Callable[[], None]) -> None:
        self.store, self.table, self.clock, self.metrics = store, table, clock, metrics
        self.poll_seconds, self.from_phone, self.wake_sender = poll_seconds, from_phone, wake_sender
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A step may have become due now (its messages failed): look before the next poll."""
        self._wake.set()

    async def step_failed(self, item, reason: str) -> None:
        """The outbox gave up on a verification message (the sender's give-up hook): the store has made the next
        step due if nobody of this one is left; reach it now."""
        self.wake()

    def _plan(self, view: CallListView) -> Reached:
        table = self.table()
        v = view.verification
        listing = Listing(verification=v, site=view.site, alarm=view.alarm, contacts=view.contacts,
                          process=table.process(v.process) or STAND_IN, central_station=table.central_station,
                          from_phone=self.from_phone, opted_out=view.opted_out, held=view.held)
        return reach(listing, self.clock.now())

    async def run_once(self) -> int:
        """One pass: the number of verifications whose due recipients were reached."""
        now = self.clock.now()
        worked, queued = 0, False
        for verification_id in await self.store.due_call_lists(now):
            try:
                reached = await self.store.reach_call_list(verification_id, now, self._plan)
            except StaleDecision as exc:  # nothing written: the next pass, moments later, reads anew
                log.info("verification %s: call list: %s; reached on the next pass", verification_id, exc.message)
                self._wake.set()
                continue
            if reached is None:
                continue
            worked += 1
            queued = queued or bool(reached.outbound)
            self.metrics.logged(reached.log)
            log.info("verification %s: call list: %d message(s) queued, %d row(s) logged", verification_id,
                     len(reached.outbound), len(reached.log))
        if queued:
            self.wake_sender()
        return worked

    async def _until_due(self) -> float:
        """Seconds to the next pass: the poll interval, or less when a step falls due sooner (a step is reached
        when its seconds are up, not up to a poll later)."""
        try:
            due = await self.store.next_call_list_due()
        except Exception:
            return self.poll_seconds
        if due is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(0.0, (due - self.clock.now()).total_seconds()))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.run_once()
            except StoreUnavailable:
                pass  # the store logged it once; the next pass tries again
            except Exception:
                log.exception("escalation loop: pass failed")
            waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())}
            await asyncio.wait(waiters, timeout=await self._until_due(), return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
