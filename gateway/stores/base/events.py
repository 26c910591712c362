"""The event log, and the webhook deliveries that carry notifications to subscribers."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from datetime import datetime

from gateway.model import LogEntry
from gateway.model import LogRow
from gateway.stores.records import WebhookDelivery


class EventStore(abc.ABC):
    """The event log and webhook deliveries."""

    # Event log
    @abc.abstractmethod
    async def event_log(self, *, site_id: str | None, after: int, limit: int) -> list[LogRow]: ...

    @abc.abstractmethod
    async def log(self, entries: Sequence[LogEntry]) -> None: ...

    @abc.abstractmethod
    async def recent_events(self, site_id: str, limit: int, hidden: Sequence[str] = ()) -> list[LogRow]:
        """The site's last ``limit`` event-log rows whose code is not in ``hidden``, newest first (the limit
        counts only the rows returned, so hiding a row never shortens the list)."""

    @abc.abstractmethod
    async def verification_log(self, site_id: str, verification_id: str, limit: int) -> list[LogRow]:
        """The site's rows about one verification (its texts, answers, failures), oldest first."""

    @abc.abstractmethod
    async def dispatch_log(self, site_id: str, dispatch_id: str, limit: int) -> list[LogRow]:
        """The site's rows about one Dispatch SMS (its texts and the replies in its window), oldest first."""

    @abc.abstractmethod
    async def phone_log(self, phone: str, limit: int) -> list[LogRow]:
        """The newest ``limit`` rows about ``phone`` (any site, or none), oldest first."""

    @abc.abstractmethod
    async def alarm_log(self, site_id: str, event_id: str, limit: int) -> list[LogRow]:
        """The site's rows about one alarm event (the alarm, what it opened or why it opened nothing), oldest
        first."""

    # Webhook deliveries
    @abc.abstractmethod
    async def fan_out_webhook_events(
        self, now: datetime, subscribers_for: Callable[[str, datetime], Sequence[str]], limit: int
    ) -> int:
        """In one transaction: read up to ``limit`` webhook events after the cursor, queue a delivery due
        ``now`` for each subscriber key ``subscribers_for(event_type, created_at)`` names, move the
        cursor past them. The number of events read (0: caught up)."""

    @abc.abstractmethod
    async def claim_webhook_deliveries(self, now: datetime, lease_until: datetime, limit: int) -> list[WebhookDelivery]:
        """Due deliveries, oldest first, leased until ``lease_until`` with their attempt counted."""

    @abc.abstractmethod
    async def release_webhook_leases(self, now: datetime) -> int:
        """Make every delivery left 'sending' by a previous process due now (start-up only)."""

    @abc.abstractmethod
    async def webhook_delivered(self, delivery_id: int, now: datetime) -> None: ...

    @abc.abstractmethod
    async def webhook_retry(self, delivery_id: int, next_attempt_at: datetime, error: str) -> None: ...

    @abc.abstractmethod
    async def webhook_failed(self, delivery_id: int, error: str, log: Sequence[LogEntry]) -> None:
        """Give up on a delivery and log why, in one transaction."""

    @abc.abstractmethod
    async def webhook_deliveries_by_status(self) -> dict[str, int]: ...
