"""Verifications and the messages that carry them: the outbox, carrier delivery reports,
response links, the loopback carrier's record."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from gateway.model import Decision, DeliveryReport, Dispatch, InboundMessage, LogEntry, Verification
from gateway.stores.records import DeliveryResult, FailedText, InboundText, OutboundText, OutboxItem


class OutboxStore(abc.ABC):
    """Verifications, the outbox and delivery reports."""

    # Verifications
    @abc.abstractmethod
    async def open_verifications(self, phone: str, now: datetime) -> list[tuple[Verification, int]]:
        """Verifications a text from ``phone`` may answer (not timed out), newest first, with the recipient contact id."""

    @abc.abstractmethod
    async def verifications_open_at(self, phone: str, at: datetime) -> list[tuple[Verification, int]]:
        """Verifications a text from ``phone`` at ``at`` could have answered (opened by then, timing out after
        it), whatever became of them since, newest first, with the recipient contact id."""

    @abc.abstractmethod
    async def get_verification(self, verification_id: str) -> Verification | None: ...

    @abc.abstractmethod
    async def verifications_since(self, since: datetime, limit: int) -> list[Verification]:
        """Verifications that wait for an answer opened at or after ``since``, newest first, with their
        recipients and responder's name (the console's live alarms)."""

    @abc.abstractmethod
    async def expire_verifications(self, now: datetime, effects_for: Callable[[Verification], Decision]) -> list[Verification]:
        """Mark every verification past its timeout expired; write the log rows and notifications of
        ``effects_for(v)`` in the same transaction."""

    # Verifications API: response links
    @abc.abstractmethod
    async def add_response_token(self, token_hash: str, verification_id: str, contact_id: int,
                                 expires_at: datetime) -> None: ...

    @abc.abstractmethod
    async def response_token(self, token_hash: str) -> dict[str, Any] | None:
        """The token's row with its verification's status, process, site, event and message."""

    @abc.abstractmethod
    async def use_response_token(self, token_hash: str, now: datetime) -> bool:
        """Mark the token used; False when it already was (one use only)."""

    # Outbox
    @abc.abstractmethod
    async def claim_outbound(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxItem]: ...

    @abc.abstractmethod
    async def release_leases(self, now: datetime) -> int:
        """Make every message left 'sending' by a previous process due now (start-up only)."""

    @abc.abstractmethod
    async def outbound_sent(self, item: OutboxItem, carrier: str, carrier_message_id: str, now: datetime) -> None: ...

    @abc.abstractmethod
    async def outbound_retry(
        self, item: OutboxItem, next_attempt_at: datetime, error_code: str | None, error: str, now: datetime
    ) -> None: ...

    @abc.abstractmethod
    async def outbound_defer(self, item: OutboxItem, next_attempt_at: datetime, reason: str, now: datetime) -> None:
        """Put a claimed message back, due at ``next_attempt_at``, without counting the claim as an attempt."""

    @abc.abstractmethod
    async def outbound_failed(
        self, item: OutboxItem, status: str, error_code: str | None, error: str, now: datetime, log: Sequence[LogEntry]
    ) -> None:
        """Give up on ``item`` (status failed or expired) and log why, in one transaction."""

    @abc.abstractmethod
    async def outbox_depth(self) -> int: ...

    @abc.abstractmethod
    async def outbox_oldest(self) -> dict[str, datetime]:
        """By kind, when the oldest message still queued or sending was queued (kinds with none left out)."""

    @abc.abstractmethod
    async def next_outbound_due(self) -> datetime | None: ...

    @abc.abstractmethod
    async def send_failures_since(self, since: datetime) -> dict[str, int]:
        """Texts (SMS) given up or reported undelivered since ``since``, counted by the carrier's error
        code ('' for none)."""

    @abc.abstractmethod
    async def last_failed_texts(self, site_id: str) -> dict[int, FailedText]:
        """For each contact of the site that has one, its newest text (SMS) that failed or was undelivered."""

    # What happened to a number, or to one verification (gateway trace)
    @abc.abstractmethod
    async def outbound_texts(self, *, phone: str | None = None, verification_id: str | None = None,
                             limit: int) -> list[OutboundText]:
        """The newest ``limit`` texts (SMS) to ``phone``, or the messages (SMS and email) of
        ``verification_id``, oldest first, each with its carrier's reports."""

    @abc.abstractmethod
    async def inbound_texts(self, phone: str, limit: int) -> list[InboundText]:
        """The newest ``limit`` texts from ``phone``, oldest first."""

    @abc.abstractmethod
    async def verifications_for_phone(self, phone: str, limit: int) -> list[Verification]:
        """The newest ``limit`` verifications texted to ``phone``, newest first, with their recipients and
        responder's name."""

    @abc.abstractmethod
    async def site_verifications(self, site_id: str, limit: int) -> list[Verification]:
        """The site's newest ``limit`` verifications (notices too), newest first, with their recipients and
        responder's name."""

    # Dispatch SMS
    @abc.abstractmethod
    async def get_dispatch(self, dispatch_id: str) -> Dispatch | None:
        """The dispatch with its recipients (contact id, phone)."""

    # Carrier delivery reports
    @abc.abstractmethod
    async def delivery_report(
        self, report: DeliveryReport, log_for: Callable[[OutboxItem, DeliveryReport], Sequence[LogEntry]]
    ) -> DeliveryResult:
        """Record a carrier's report and move its message forward, never back.

        A final report settles the message and its verification recipient (delivered or
        failed) and logs ``log_for(item, report)``, all in one transaction.
        """

    # The loopback carrier's own record
    @abc.abstractmethod
    async def record_loopback(self, item: OutboxItem, now: datetime) -> int: ...

    @abc.abstractmethod
    async def loopback_messages(self, *, to_phone: str | None, after: int, limit: int) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    async def record_loopback_inbound(self, message: InboundMessage) -> bool:
        """Keep a text the loopback carrier took for the gateway and did not deliver; False when its id was
        kept before."""

    @abc.abstractmethod
    async def loopback_inbound(self, to_phone: str, since: datetime, limit: int) -> list[InboundMessage]:
        """The texts to ``to_phone`` the loopback carrier kept, received at or after ``since``, oldest first."""
