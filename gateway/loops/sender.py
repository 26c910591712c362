"""The sender loop: delivers committed outbox messages through the carrier, with retries.

A message is in the outbox (committed) before the carrier hears of it. The loop claims due
messages under a lease, highest priority and oldest first; a message whose sender died
mid-send is due again when its lease runs out (or at once on the next start), so every
committed message is sent at least once.

Several sends may be in flight at once (``outbox.max_in_flight``), but they are handed
out one by one in claim order, each after waiting its turn in its sender number's
segment budget (:mod:`gateway.loops.pace`). Only as many messages are claimed as there are
free places, so a verification queued behind a burst waits for at most that many. (About 285 lines:
the claim, the send and its outcomes are one loop's story.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol
from datetime import timedelta

from gateway import codes
from gateway.carriers import Carrier
from gateway.clock import Clock
from gateway.config import Outbox as OutboxConfig
from gateway.core.carrier_errors import OPTED_OUT  # the error code of a text not sent because its number opted out
from gateway.errors import DeliveryError, StoreUnavailable
from gateway.mail.courier import EmailCourier
from gateway.daemon.metrics import Metrics
from gateway.model import LogEntry
from gateway.loops.backoff import retry_delay
from gateway.loops.pace import sender_pace
from gateway.stores import OutboxItem, Store

log = logging.getLogger(__name__)
NOT_SET_UP = {"email": "Email (email.backend)", "push": "Push (push.backend)", "call": "Calling (with this carrier)"}


class Transport(Protocol):
    """What takes an outbox message of one channel: the carrier, the email courier, the push sender."""

    name: str

    async def send(self, item: OutboxItem) -> str: ...


class OutboxSender:
    def __init__(self, store: Store, carrier: Carrier, clock: Clock, metrics: Metrics, config: OutboxConfig,
                 email: EmailCourier | None = None, push: Transport | None = None) -> None:
        self.store = store
        self.carrier = carrier
        self.email = email
        self.push = push
        self.clock = clock
        self.metrics = metrics
        self.config = config
        self._wake = asyncio.Event()
        self._stopping = False
        self._in_flight: set[asyncio.Task] = set()
        self._sending: set[int] = set()  # outbox ids of the sends in flight
        self._claims_unsure = False  # the store went away during a claim: release what we hold and do not send
        self._unreleased: list[OutboxItem] = []  # claimed, not handed out, not yet put back (the store was away)
        self._watchers: set[asyncio.Event] = set()
        self.limits = sender_pace(store, store.shared, clock, carrier.max_per_second)
        self.running = False
        # kind -> called with (item, reason) after the outbox gives up on a message of that kind
        self.give_up_hooks: dict[str, Callable[[OutboxItem, str], Awaitable[None]]] = {}
        # By kind: make the text final as it goes out (e.g. a one-time link the outbox must not hold).
        self.compose_hooks: dict[str, Callable[[OutboxItem], Awaitable[OutboxItem]]] = {}

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Take no new messages; the sends in flight finish."""
        self._stopping = True
        self._wake.set()

    async def start(self) -> None:
        """Make what a previous process left mid-send due at once; the loop may run after this."""
        await self.store.release_leases(self.clock.now())
        self.running = True

    async def run(self) -> None:
        if not self.running:
            await self.start()
        try:
            await self._loop()
            if self._in_flight:
                await asyncio.wait(self._in_flight)
        finally:
            for task in self._in_flight:
                task.cancel()  # still 'sending': released and sent again after the next start
            self.running = False

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            free = self.config.max_in_flight - len(self._in_flight)
            claimed = 0
            try:
                if free > 0:
                    claimed = await self._hand_out(free)
            except StoreUnavailable:
                self._claims_unsure = True  # a claim may have committed with its answer lost
            except Exception:
                log.exception("outbox: claiming failed; retrying after the poll interval")
            if self._stopping or (claimed and len(self._in_flight) < self.config.max_in_flight):
                continue
            waiters = {asyncio.ensure_future(self._wake.wait()), *self._in_flight}
            await asyncio.wait(waiters, timeout=self.config.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters - self._in_flight:
                waiter.cancel()

    async def run_once(self) -> int:
        """Claim one batch of due messages and try each (the test's loop); the number tried."""
        claimed = await self._hand_out(self.config.batch_size)
        if self._in_flight:
            await asyncio.wait(self._in_flight)
        self.metrics.outbox_depth.set(await self.store.outbox_depth())
        return claimed

    async def _release(self) -> None:
        """Make what was claimed and not handed out due again now, not after a whole lease time; what the store
        does not take now is tried again before the next claim."""
        while self._unreleased:
            item = self._unreleased[0]
            if item.id not in self._sending:  # claimed again since, and being sent: not released under it
                try:
                    await self.store.outbound_defer(item, self.clock.now(), "sender error: released", self.clock.now())
                except StoreUnavailable:
                    return
                except Exception:
                    log.exception("outbox %d: could not be released; due again when its lease runs out", item.id)
            self._unreleased.pop(0)

    async def _hand_out(self, limit: int) -> int:
        await self._release()
        if self._claims_unsure:
            await self.store.release_own_claims(self.clock.now(), list(self._sending))
            self._claims_unsure = False
        now = self.clock.now()
        claimed = await self.store.claim_outbound(
            now, now + timedelta(seconds=self.config.sending_lease_seconds), limit)
        # A lease that ran out while this process was still sending (it was stopped or stalled for longer than
        # the lease) is claimed as if its sender had died; but the send is ours and still going: not twice.
        items = [item for item in claimed if item.id not in self._sending]
        for index, item in enumerate(items):
            while len(self._in_flight) >= self.config.max_in_flight:
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
            try:
                wait = await self._prepare(item)
            except Exception as exc:
                if isinstance(exc, StoreUnavailable):  # the store logged why, once
                    log.warning("outbox %d: the store does not answer; %d claimed message(s) released when it "
                                "does", item.id, len(items) - index)
                else:
                    log.exception("outbox %d: preparing the send failed; releasing %d claimed message(s)", item.id,
                                  len(items) - index)
                self._unreleased.extend(items[index:])
                await self._release()
                break
            if wait is not None:
                task = asyncio.create_task(self._send(item, wait), name=f"outbox-{item.id}")
                self._in_flight.add(task)
                self._sending.add(item.id)
                task.add_done_callback(lambda task, sent=item.id: self._sending.discard(sent))
                task.add_done_callback(self._finished)
        if claimed:
            self.metrics.outbox_depth.set(await self.store.outbox_depth())
        return len(items)

    async def sent_batch(self, timeout: float) -> None:
        """Wait until a send finishes, at most ``timeout`` seconds (for callers that report "sent")."""
        event = asyncio.Event()
        self._watchers.add(event)
        try:
            await asyncio.wait_for(event.wait(), max(timeout, 0.0))
        except asyncio.TimeoutError:
            pass
        finally:
            self._watchers.discard(event)

    def _finished(self, task: asyncio.Task) -> None:
        self._in_flight.discard(task)
        for watcher in self._watchers:
            watcher.set()
        if task.cancelled() or task.exception() is None:
            return
        if isinstance(task.exception(), StoreUnavailable):  # the store logged why, once
            log.error("outbox: %s: the carrier's answer could not be recorded; the message is tried again when "
                      "its lease runs out", task.get_name())
        else:
            log.error("outbox: a send failed after the carrier call", exc_info=task.exception())

    async def deliver(self, item: OutboxItem) -> None:
        """Send one claimed message now, in its turn of the sender's pace."""
        wait = await self._prepare(item)
        if wait is not None:
            await self._send(item, wait)

    async def _prepare(self, item: OutboxItem) -> float | None:
        """Give up on a stale or opted-out message, else reserve its segments; the seconds to wait, or None."""
        if await self._stale(item):
            return None
        if item.channel in ("email", "push"):
            return 0.0  # no SMS opt-out list or sender pace for email and push
        if await self.store.opted_out(item.to_phone):
            await self._give_up(item, "failed", OPTED_OUT, "The number opted out (STOP); not sent.", codes.SEND_FAILED)
            self.metrics.outbound.labels(self.carrier.name, "opted_out").inc()
            return None
        sender = item.from_phone
        wait = await self.limits.reserve(sender, item.segments)
        if wait > self.config.sending_lease_seconds / 2:
            # Waiting that long would outlive the lease and another claim would send it twice.
            await self.limits.refund(sender, item.segments)
            now = self.clock.now()
            await self.store.outbound_defer(item, now + timedelta(seconds=wait), "rate limit: deferred", now)
            return None
        return wait

    async def _stale(self, item: OutboxItem) -> bool:
        if item.expires_at is None or self.clock.now() < item.expires_at:
            return False
        await self._give_up(item, "expired", None, "The message outlived its validity before it could be sent.",
                            codes.SEND_EXPIRED)
        self.metrics.outbound.labels(self.carrier.name, "expired").inc()
        return True

    async def _send(self, item: OutboxItem, wait: float) -> None:
        if wait > 0:
            await self.clock.sleep(wait)
            if await self._stale(item):
                return
        compose = self.compose_hooks.get(item.kind)
        if compose is not None:
            item = await compose(item)
        transport = self.transport(item.channel)
        if transport is None:
            await self._give_up(item, "failed", None, f"{NOT_SET_UP.get(item.channel, item.channel)} is not set up.",
                                codes.SEND_FAILED)
            return
        carrier = transport.name
        try:
            carrier_id = await transport.send(item)
        except DeliveryError as exc:
            self.metrics.carrier_errors.labels(carrier, exc.code or "none").inc()
            if exc.retryable and item.attempts < self.config.max_attempts:
                delay = retry_delay(item.attempts, self.config.backoff_base_seconds, self.config.backoff_max_seconds)
                # From the failure, not from the call's start: a timed-out call has already used up a short backoff.
                now = self.clock.now()
                await self.store.outbound_retry(item, now + timedelta(seconds=delay), exc.code, exc.message, now)
                self.metrics.outbound.labels(carrier, "retry").inc()
                log.warning("outbox %d to %s: %s (attempt %d, retry in %.1fs)", item.id, item.to_phone, exc.message,
                            item.attempts, delay)
            else:
                await self._give_up(item, "failed", exc.code, exc.message, codes.SEND_FAILED)
                self.metrics.outbound.labels(carrier, "failed").inc()
            return
        except StoreUnavailable:  # a carrier that records in the store (loopback): it did not take the text
            log.warning("outbox %d: carrier %s could not reach the store; released when it answers", item.id,
                        carrier)
            self._unreleased.append(item)
            return
        except Exception as exc:  # a carrier bug must not lose the message: retry it like a timeout
            log.exception("outbox %d: carrier %s raised", item.id, carrier)
            now = self.clock.now()
            await self.store.outbound_retry(item, now + timedelta(seconds=self.config.backoff_base_seconds),
                                            None, repr(exc), now)
            self.metrics.outbound.labels(carrier, "error").inc()
            return
        try:
            # The carrier's reports that overtook this record are applied with it (their log is the carrier's).
            logged = await self.store.outbound_sent(item, carrier, carrier_id, self.clock.now(),
                                                    self.carrier.delivery_log if transport is self.carrier else None)
        except StoreUnavailable:
            # At least once: sent again once the store answers, rather than a whole lease later.
            log.error("outbox %d: sent by %s, but the store does not answer to record it; it is sent again once "
                      "the store answers", item.id, carrier)
            self._unreleased.append(item)
            return
        self.metrics.outbound.labels(carrier, "sent").inc()
        self.metrics.logged(logged)
        for entry in logged:  # a failed report that overtook the record: a carrier error as in the webhook
            self.metrics.carrier_errors.labels(carrier, (entry.details or {}).get("error_code") or "none").inc()
        self.metrics.carrier_last_success.labels(carrier).set(self.clock.now().timestamp())
        if item.channel == "sms":
            self.metrics.outbound_segments.labels(carrier).inc(item.segments)

    async def _give_up(self, item: OutboxItem, status: str, error_code: str | None, error: str, code: str) -> None:
        entry = LogEntry(code=code, at=self.clock.now(), site_id=item.site_id, contact_id=item.contact_id,
                         phone=item.to_phone, verification_id=item.verification_id,
                         comment=f"{error} (outbox {item.id}, {item.kind})",
                         details={"outbox_id": item.id, **({"error_code": error_code, "attempts": item.attempts}
                                                           if error_code else {})})
        await self.store.outbound_failed(item, status, error_code, error, self.clock.now(), [entry])
        self.metrics.logged([entry])
        log.error("outbox %d to %s %s: %s", item.id, item.to_phone, status, error)
        await self.gave_up(item, error)

    def transport(self, channel: str) -> Transport | None:
        """Who takes a message of ``channel``: a call goes to the carrier's voice side, as a text to its SMS side."""
        call = self.carrier if self.carrier.places_calls else None
        return {"sms": self.carrier, "call": call, "email": self.email, "push": self.push}.get(channel)

    async def gave_up(self, item: OutboxItem, reason: str) -> None:
        """Run the give-up hook of ``item``'s kind: the outbox gave up on it, or the carrier ended it undelivered
        after taking it (a call nobody answered: gateway/services/calls.py)."""
        hook = self.give_up_hooks.get(item.kind)
        if hook is not None:
            await hook(item, reason)
