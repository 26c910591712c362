"""What every store engine provides. The rest of the gateway sees only this interface."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from gateway.model import (
    AlarmEvent, Contact, Decision, DeliveryReport, Dispatch, InterfaceState, LogEntry, Notification, OutboundMessage,
    PhoneLookup, Site, SiteGroup, Verification,
)


class CommitResult(msgspec.Struct, frozen=True, kw_only=True):
    duplicate: bool = False  # the inbound message or alarm event was seen before: nothing written
    inbound_id: int | None = None
    outbound_ids: tuple[int, ...] = ()


class LogRow(msgspec.Struct, frozen=True, kw_only=True):
    """An event-log row as stored, with its cursor id."""

    id: int
    at: datetime
    code: str
    site_id: str | None
    contact_id: int | None
    phone: str | None
    verification_id: str | None
    event_id: str | None
    comment: str | None
    details: dict[str, Any] | None
    trace_id: str | None


class InboundView(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about a number that deciding on its text needs, read in one go."""

    contacts: list[Contact]
    state: InterfaceState | None
    open: list[tuple[Verification, int]]  # newest first, with the recipient contact id
    site: Site | None  # of the newest open verification
    alarm: AlarmEvent | None  # of the newest open verification
    dispatches: list[Dispatch] = []  # whose reply window is open, newest first


class OutboxItem(msgspec.Struct, frozen=True, kw_only=True):
    """A claimed outbox message, leased to one sender until it is marked."""

    id: int
    kind: str
    priority: int
    to_phone: str
    from_phone: str
    body: str
    segments: int
    attempts: int
    created_at: datetime
    expires_at: datetime | None
    site_id: str | None
    contact_id: int | None
    verification_id: str | None
    channel: str = "sms"  # sms | email
    to_address: str | None = None  # for email
    subject: str | None = None


class DeliveryResult(msgspec.Struct, frozen=True, kw_only=True):
    """What a delivery report did: whether its message is known, and the message when it was settled."""

    known: bool
    settled: OutboxItem | None = None


class WebhookDelivery(msgspec.Struct, frozen=True, kw_only=True):
    """A claimed webhook delivery with the event it carries, leased to one dispatcher until it is marked."""

    id: int
    subscriber: str
    webhook_event_id: int
    event_type: str
    data: str  # JSON, as stored
    event_created_at: datetime
    attempts: int


class Store(abc.ABC):
    """Durable state: sites, contacts, verifications, the outbox, the event log."""

    engine: str

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and bring the schema up to date."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def migrate(self) -> list[str]:
        """Apply pending schema migrations; return the names applied."""

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True when the store answers a trivial query."""

    # Sites and contacts
    @abc.abstractmethod
    async def add_site(self, site: Site) -> Site: ...

    @abc.abstractmethod
    async def get_site(self, site_id: str) -> Site | None: ...

    @abc.abstractmethod
    async def list_sites(self, dealer_id: str | None = None) -> list[Site]: ...

    @abc.abstractmethod
    async def add_contact(self, contact: Contact) -> Contact:
        """Insert ``contact`` (its ``id`` is ignored) and return it with the id assigned."""

    @abc.abstractmethod
    async def get_contact(self, contact_id: int) -> Contact | None: ...

    @abc.abstractmethod
    async def list_contacts(self, site_id: str) -> list[Contact]: ...

    @abc.abstractmethod
    async def contacts_by_phone(self, phone: str) -> list[Contact]: ...

    @abc.abstractmethod
    async def get_alarm_event(self, event_id: str) -> AlarmEvent | None: ...

    @abc.abstractmethod
    async def inbound_view(self, phone: str, now: datetime) -> InboundView:
        """The contacts with this number, its interface state and the verifications it may answer."""

    # The pipeline's writes
    @abc.abstractmethod
    async def commit(self, decision: Decision) -> CommitResult:
        """Write everything ``decision`` holds in one transaction.

        The inbound message (or alarm event) is recorded first; when its id was seen
        before, nothing is written and ``duplicate`` is true. Replies are recorded as
        outbound messages already sent inline.
        """

    # Verifications
    @abc.abstractmethod
    async def open_verifications(self, phone: str, now: datetime) -> list[tuple[Verification, int]]:
        """Verifications a text from ``phone`` may answer (not timed out), newest first, with the recipient contact id."""

    @abc.abstractmethod
    async def get_verification(self, verification_id: str) -> Verification | None: ...

    @abc.abstractmethod
    async def expire_verifications(self, now: datetime, effects_for: Callable[[Verification], Decision]) -> list[Verification]:
        """Mark every verification past its timeout expired; write the log rows and notifications of
        ``effects_for(v)`` in the same transaction."""

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
    async def outbound_failed(
        self, item: OutboxItem, status: str, error_code: str | None, error: str, now: datetime, log: Sequence[LogEntry]
    ) -> None:
        """Give up on ``item`` (status failed or expired) and log why, in one transaction."""

    @abc.abstractmethod
    async def outbox_depth(self) -> int: ...

    @abc.abstractmethod
    async def next_outbound_due(self) -> datetime | None: ...

    # Event log
    @abc.abstractmethod
    async def event_log(self, *, site_id: str | None, after: int, limit: int) -> list[LogRow]: ...

    @abc.abstractmethod
    async def log(self, entries: Sequence[LogEntry]) -> None: ...

    # API keys
    @abc.abstractmethod
    async def add_api_key(self, key_id: str, name: str, key_hash: str, now: datetime) -> None: ...

    @abc.abstractmethod
    async def api_key_hash(self, key_id: str) -> str | None: ...

    # The loopback carrier's own record
    @abc.abstractmethod
    async def record_loopback(self, item: OutboxItem, now: datetime) -> int: ...

    @abc.abstractmethod
    async def loopback_messages(self, *, to_phone: str | None, after: int, limit: int) -> list[dict[str, Any]]: ...

    # SMS interface: site groups, PINs, per-number state, sites on test
    @abc.abstractmethod
    async def add_site_group(self, group: SiteGroup) -> SiteGroup: ...

    @abc.abstractmethod
    async def get_site_group(self, group_id: str) -> SiteGroup | None: ...

    @abc.abstractmethod
    async def list_site_groups(self) -> list[SiteGroup]: ...

    @abc.abstractmethod
    async def add_site_to_group(self, group_id: str, site_id: str) -> None: ...

    @abc.abstractmethod
    async def group_sites(self, group_id: str) -> list[Site]:
        """The sites of a group, by name."""

    @abc.abstractmethod
    async def set_pin(self, contact_id: int, pin_hash: str | None, expires_at: datetime | None) -> None: ...

    @abc.abstractmethod
    async def set_duress_pin(self, contact_id: int, pin_hash: str | None) -> None: ...

    @abc.abstractmethod
    async def set_on_test_permission(self, contact_id: int, allowed: bool) -> None: ...

    @abc.abstractmethod
    async def interface_state(self, phone: str) -> InterfaceState | None: ...

    @abc.abstractmethod
    async def recent_events(self, site_id: str, limit: int) -> list[LogRow]:
        """The site's last ``limit`` event-log rows, newest first."""

    @abc.abstractmethod
    async def end_site_tests(self, now: datetime, log_for: Callable[[str, str], Sequence[LogEntry]]) -> list[str]:
        """Take every site whose test time ran out off test, logging ``log_for(site_id, name)``; the site ids."""

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

    # Twilio: delivery status, opt-outs, lookups
    @abc.abstractmethod
    async def delivery_report(
        self, report: DeliveryReport, log_for: Callable[[OutboxItem, DeliveryReport], Sequence[LogEntry]]
    ) -> DeliveryResult:
        """Record a carrier's report and move its message forward, never back.

        A final report settles the message and its verification recipient (delivered or
        failed) and logs ``log_for(item, report)``, all in one transaction.
        """

    @abc.abstractmethod
    async def opted_out(self, phone: str) -> bool:
        """True when ``phone`` asked (STOP) not to be texted and has not asked back in (START)."""

    @abc.abstractmethod
    async def set_opt_out(self, phone: str, opted_out: bool, source: str, now: datetime,
                          log: Sequence[LogEntry]) -> bool:
        """Record that ``phone`` opted out (or back in); log ``log`` only when that changed anything."""

    @abc.abstractmethod
    async def cached_lookup(self, phone: str) -> PhoneLookup | None: ...

    @abc.abstractmethod
    async def save_lookup(self, lookup: PhoneLookup) -> None:
        """Cache ``lookup`` and mark every contact with that phone valid, invalid or unknown."""


    # Partner API: sites, contacts, OAuth, welcome
    @abc.abstractmethod
    async def create_contact(self, contact: Contact) -> Contact:
        """Like ``add_contact``; raises :class:`gateway.errors.DuplicateKey` for an external id already on the site."""

    @abc.abstractmethod
    async def update_contact(self, contact: Contact, *, reset_welcome: bool = False) -> Contact:
        """Write every field of ``contact`` but its id, site and creation time; DuplicateKey as above.

        ``reset_welcome`` forgets the welcome state (a new number has confirmed nothing)."""

    @abc.abstractmethod
    async def delete_contact(self, contact: Contact, now: datetime,
                             log_for: Callable[[int], Sequence[LogEntry]]) -> int:
        """Delete ``contact``, take it out of open verifications, the outbox and SMS sessions, and log
        ``log_for(remaining)`` in the same transaction; the site's remaining contact count."""

    @abc.abstractmethod
    async def get_welcome(self, contact_id: int) -> Welcome | None: ...

    @abc.abstractmethod
    async def site_welcomes(self, site_id: str) -> dict[int, Welcome]: ...

    @abc.abstractmethod
    async def start_welcome(self, contact_id: int, token_hash: str, token_expires_at: datetime,
                            message: OutboundMessage, log: Sequence[LogEntry], now: datetime) -> None:
        """Set the welcome pending with a new token, queue its text and log, in one transaction."""

    @abc.abstractmethod
    async def welcome_by_token(self, token_hash: str, now: datetime) -> Welcome | None:
        """The welcome whose unexpired token hashes to ``token_hash``."""

    @abc.abstractmethod
    async def confirm_welcome(self, contact_id: int, now: datetime, log: Sequence[LogEntry],
                              notifications: Sequence[Notification] = ()) -> bool:
        """Mark confirmed, log and notify; False (nothing written) when it already was."""

    @abc.abstractmethod
    async def welcome_send_failed(self, contact_id: int, reason: str, now: datetime) -> bool:
        """A pending welcome's text could not be sent: state send_error with ``reason``."""

    @abc.abstractmethod
    async def add_oauth_client(self, client: OAuthClient) -> None: ...

    @abc.abstractmethod
    async def oauth_client(self, client_id: str) -> OAuthClient | None:
        """The client, unless unknown or revoked."""

    @abc.abstractmethod
    async def oauth_clients(self) -> list[tuple[OAuthClient, datetime | None]]:
        """Every stored client with its revocation time."""

    @abc.abstractmethod
    async def revoke_oauth_client(self, client_id: str, now: datetime) -> bool:
        """Revoke the client and drop its tokens; False when there was no such active client."""

    @abc.abstractmethod
    async def add_oauth_token(self, token_hash: str, client_id: str, dealer_id: str, issued_at: datetime,
                              expires_at: datetime) -> None:
        """Store a new token (and forget the expired ones)."""

    @abc.abstractmethod
    async def oauth_token(self, token_hash: str) -> TokenGrant | None: ...


# Partner API records

class Welcome(msgspec.Struct, frozen=True, kw_only=True):
    """Where a contact stands with the welcome text; no record means state ``none``."""

    contact_id: int
    state: str  # pending | confirmed | send_error
    send_error: str | None = None
    token_expires_at: datetime | None = None
    sent_at: datetime | None = None
    confirmed_at: datetime | None = None


class OAuthClient(msgspec.Struct, frozen=True, kw_only=True):
    """A partner system allowed to act for one dealer."""

    client_id: str
    dealer_id: str
    secret_hash: str
    name: str | None = None
    created_at: datetime | None = None


class TokenGrant(msgspec.Struct, frozen=True, kw_only=True):
    """What a bearer token was issued for. ``client_stored`` is false for clients of the clients file."""

    client_id: str
    dealer_id: str
    expires_at: datetime
    client_stored: bool
    client_revoked: bool
