"""The webhook dispatcher: notifications for subscribers, POSTed signed, from a durable queue, with retries.

A notification is committed in ``webhook_events`` with the change it reports. Each pass fans
new events out into one delivery row per interested subscriber (in one transaction with the
cursor, so each event is fanned out once, across restarts), then claims due deliveries under
a lease and POSTs them. A 2xx answer delivers; anything else (an error status, a timeout, a
refused connection, a redirect) retries with capped, jittered exponential backoff until the
event is ``max_age_seconds`` old, when the delivery is given up and logged as WEBHOOKFAIL.
The loop runs on its own task and HTTP session: a slow subscriber never holds up an inbound text.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import msgspec

from gateway import codes
from gateway.clock import Clock
from gateway.config import Webhook, read_secret
from gateway.errors import ConfigurationError, StoreUnavailable
from gateway.loops.backoff import retry_delay
from gateway.daemon.metrics import Metrics
from gateway.model import LogEntry
from gateway.stores import Store
from gateway.stores import WebhookDelivery

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Gateway-Signature"
EVENT_ID_HEADER = "X-Gateway-Event-Id"
BACKOFF_BASE_SECONDS = 10.0
BACKOFF_MAX_SECONDS = 1800.0
FAN_OUT_BATCH = 200
FAN_OUT_BATCHES_PER_PASS = 50


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def redacted(url: str) -> str:
    """A subscriber URL fit for logs: no credentials, no query string."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


OUTCOMES = ("delivered", "retry", "failed")


class Subscriber(msgspec.Struct, frozen=True, kw_only=True):
    config: Webhook
    secret: str

    def wants(self, event_type: str) -> bool:
        return not self.config.events or event_type in self.config.events


class WebhookDispatcher:
    def __init__(self, store: Store, clock: Clock, metrics: Metrics, webhooks: Sequence[Webhook], *,
                 resolve: Callable[[str], Path] = Path, poll_seconds: float = 1.0, batch_size: int = 20) -> None:
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self.webhooks = list(webhooks)
        self.resolve = resolve
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.subscribers: dict[str, Subscriber] = {}
        self._session: aiohttp.ClientSession | None = None
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()

    async def start(self) -> None:
        """Read the secrets (a missing one stops the start), open the HTTP session, make what a
        previous process left mid-send due now."""
        for i, hook in enumerate(self.webhooks):
            file = self.resolve(hook.secret_file) if hook.secret_file else None
            secret = read_secret(None, file, hook.secret_env, key=f"webhooks[{i}].secret")
            if not secret:
                raise ConfigurationError(f"webhooks[{i}].secret_env: ${hook.secret_env} is not set",
                                         key=f"webhooks[{i}].secret_env")
            self.subscribers[hook.url] = Subscriber(config=hook, secret=secret)
            for outcome in OUTCOMES:  # at 0 from the start, so an alert's increase() sees the first attempt
                self.metrics.webhook_deliveries.labels(redacted(hook.url), outcome)
        self._session = aiohttp.ClientSession()
        await self.store.release_webhook_leases(self.clock.now())

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def stop(self) -> None:
        """Take no new batch; the batch in flight finishes."""
        self._stop.set()

    def wake(self) -> None:
        """Events were committed (by any daemon, heard through the store): look now, not at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                tried = await self.run_once()
            except StoreUnavailable:  # the store logged it once
                tried = 0
            except Exception:
                log.exception("webhooks: pass failed; retrying after the poll interval")
                tried = 0
            if tried == 0:
                await self._pause()

    async def _pause(self) -> None:
        """Until the poll interval passes, a wake-up or the stop."""
        waiters = {asyncio.ensure_future(self._stop.wait()), asyncio.ensure_future(self._wake.wait())}
        await asyncio.wait(waiters, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        self._wake.clear()

    async def run_once(self) -> int:
        """Fan new events out, then claim one batch of due deliveries and POST them concurrently;
        the number of deliveries tried."""
        now = self.clock.now()
        for _ in range(FAN_OUT_BATCHES_PER_PASS):
            if await self.store.fan_out_webhook_events(now, self._subscribers_for, FAN_OUT_BATCH) < FAN_OUT_BATCH:
                break
        longest = max((s.config.timeout_seconds for s in self.subscribers.values()), default=10.0)
        deliveries = await self.store.claim_webhook_deliveries(
            now, now + timedelta(seconds=2 * longest + 30), self.batch_size)
        results = await asyncio.gather(*(self.deliver(d) for d in deliveries), return_exceptions=True)
        for delivery, result in zip(deliveries, results):
            if isinstance(result, Exception):  # its lease runs out and it is tried again
                log.error("webhook delivery %d failed unexpectedly", delivery.id, exc_info=result)
        return len(deliveries)

    def _subscribers_for(self, event_type: str, created_at: datetime) -> list[str]:
        # An event older than a subscriber's max age is not queued for it: turning webhooks on
        # (or adding a subscriber) does not replay the whole history.
        age = (self.clock.now() - created_at).total_seconds()
        return [url for url, s in self.subscribers.items() if s.wants(event_type) and age < s.config.max_age_seconds]

    async def deliver(self, delivery: WebhookDelivery) -> None:
        subscriber = self.subscribers.get(delivery.subscriber)
        if subscriber is None:
            await self._give_up(delivery, "the subscriber is no longer configured")
            return
        body = msgspec.json.encode({"event_type": delivery.event_type, "data": delivery.data})
        error = await self._post(subscriber, delivery, body)
        now = self.clock.now()
        if error is None:
            await self.store.webhook_delivered(delivery.id, now)
            self.metrics.webhook_deliveries.labels(redacted(delivery.subscriber), "delivered").inc()
            return
        age = (now - delivery.event_created_at).total_seconds()
        delay = retry_delay(delivery.attempts, BACKOFF_BASE_SECONDS, BACKOFF_MAX_SECONDS)
        if age + delay >= subscriber.config.max_age_seconds:
            await self._give_up(delivery, error)
            return
        await self.store.webhook_retry(delivery.id, now + timedelta(seconds=delay), error)
        self.metrics.webhook_deliveries.labels(redacted(delivery.subscriber), "retry").inc()
        log.warning("webhook %s to %s: %s (attempt %d, retry in %.0fs)", delivery.event_type,
                    redacted(delivery.subscriber), error, delivery.attempts, delay)

    async def _post(self, subscriber: Subscriber, delivery: WebhookDelivery, body: bytes) -> str | None:
        """None when the subscriber accepted the delivery, else why not."""
        assert self._session is not None, "dispatcher not started"
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(subscriber.secret, int(self.clock.now().timestamp()), body),
            EVENT_ID_HEADER: str(delivery.webhook_event_id),
        }
        try:
            # No redirects: a signed payload goes to the URL the operator configured, nowhere else.
            async with self._session.post(
                subscriber.config.url, data=body, headers=headers, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=subscriber.config.timeout_seconds),
            ) as resp:
                if 200 <= resp.status < 300:
                    return None
                return f"HTTP {resp.status}"
        except asyncio.TimeoutError:
            return f"no answer within {subscriber.config.timeout_seconds:g}s"
        except aiohttp.ClientError as exc:
            return f"{type(exc).__name__}: {exc}"

    async def _give_up(self, delivery: WebhookDelivery, error: str) -> None:
        data = delivery.data
        url = redacted(delivery.subscriber)
        entry = LogEntry(
            code=codes.WEBHOOK_FAILED, at=self.clock.now(), site_id=data.get("site_id"),
            contact_id=data.get("contact_id") if isinstance(data.get("contact_id"), int) else None,
            verification_id=data.get("verification_id"), event_id=data.get("event_id"),
            comment=f"{delivery.event_type} to {url} given up after {delivery.attempts} attempts: {error}",
            details={"url": url, "event_type": delivery.event_type, "webhook_event_id": delivery.webhook_event_id,
                     "attempts": delivery.attempts, "error": error})
        await self.store.webhook_failed(delivery.id, error, [entry])
        self.metrics.webhook_deliveries.labels(url, "failed").inc()
        self.metrics.logged([entry])
        log.error("webhook %s to %s given up: %s", delivery.event_type, url, error)
