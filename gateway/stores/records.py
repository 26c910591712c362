"""The store's records, and how stored rows become them: the one place that knows how stored
columns map onto the model. Rows come from a connector (gateway/stores/connector.py) with times
as datetimes and JSON decoded, whatever the engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from gateway.core.reply_refs import HeldRef
from gateway.model import (
    AlarmEvent, CallList, Contact, Dispatch, InterfaceState, LogEntry, LogRow, Recipient, Site, SiteGroup, Verification,
)


class CommitResult(msgspec.Struct, frozen=True, kw_only=True):
    duplicate: bool = False  # the inbound message or alarm event was seen before: nothing written
    inbound_id: int | None = None


class InboundView(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about a number that deciding on its text needs, read in one go."""

    contacts: list[Contact]
    state: InterfaceState | None
    open: list[tuple[Verification, int]]  # newest first, with the recipient contact id
    site: Site | None  # of the newest open verification
    alarm: AlarmEvent | None  # of the newest open verification
    dispatches: list[Dispatch] = []  # whose reply window is open, newest first
    sites: dict[str, Site] = {}  # of every open verification
    alarms: dict[str, AlarmEvent] = {}  # of every open verification
    refs: list[HeldRef] = []  # the reply references the number holds (read only when a verification is open)


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
    channel: str = "sms"  # sms | email | call | push
    to_address: str | None = None  # for email
    subject: str | None = None
    carrier: str | None = None  # once sent: the carrier that took it, and its id there (a call's sid)
    carrier_message_id: str | None = None


class DeliveryResult(msgspec.Struct, frozen=True, kw_only=True):
    """What a delivery report did: whether its message is known, and the rows it logged (when it settled one)."""

    known: bool
    logged: tuple[LogEntry, ...] = ()


class FailedText(msgspec.Struct, frozen=True, kw_only=True):
    """A text the outbox gave up on, or that the carrier reported undelivered, with the carrier's error code."""

    outbound_id: int
    contact_id: int | None
    kind: str
    status: str  # failed | undelivered
    error_code: str | None
    error: str | None
    at: datetime  # when it was given up or reported


class CarrierReport(msgspec.Struct, frozen=True, kw_only=True):
    """One status report a carrier sent about a text it accepted (queued, sent, delivered, undelivered...)."""

    status: str
    error_code: str | None
    at: datetime


class OutboundText(msgspec.Struct, frozen=True, kw_only=True):
    """A message of the outbox as stored, whatever became of it, with every report its carrier sent on it."""

    id: int
    kind: str
    channel: str  # sms | email
    status: str  # queued | sending | sent | delivered | undelivered | failed | expired | cancelled
    to_phone: str
    to_address: str | None
    body: str
    site_id: str | None
    contact_id: int | None
    verification_id: str | None
    inbound_id: int | None  # the text it answered inline
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    updated_at: datetime
    carrier: str | None
    carrier_message_id: str | None
    error_code: str | None
    error: str | None
    reports: tuple[CarrierReport, ...] = ()  # oldest first


class InboundText(msgspec.Struct, frozen=True, kw_only=True):
    """A text a carrier handed over, as stored (anything PIN-shaped already masked)."""

    id: int
    carrier: str
    carrier_message_id: str
    from_phone: str
    to_phone: str
    body: str
    received_at: datetime


class OptOutState(msgspec.Struct, frozen=True, kw_only=True):
    """A number's last opt-out change: out (STOP, or the carrier's code) or back in (START)."""

    phone: str
    opted_out: bool
    source: str
    changed_at: datetime


class WebhookDelivery(msgspec.Struct, frozen=True, kw_only=True):
    """A claimed webhook delivery with the event it carries, leased to one dispatcher until it is marked."""

    id: int
    subscriber: str
    webhook_event_id: int
    event_type: str
    data: dict[str, Any]
    event_created_at: datetime
    attempts: int


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


# Rows to records

def site_from_row(r: Mapping[str, Any]) -> Site:
    return Site(id=r["id"], dealer_id=r["dealer_id"], name=r["name"], time_zone=r["time_zone"],
                on_test_until=r["on_test_until"], created_at=r["created_at"])


def contact_from_row(r: Mapping[str, Any]) -> Contact:
    return Contact(
        id=r["id"], site_id=r["site_id"], first_name=r["first_name"], last_name=r["last_name"], phone=r["phone"],
        email=r["email"], external_contact_id=r["external_contact_id"], auto_notify=bool(r["auto_notify"]),
        email_notify=bool(r["email_notify"]), title=r["title"], slot_number=r["slot_number"],
        time_zone=r["time_zone"], pin_hash=r["pin_hash"], pin_expires_at=r["pin_expires_at"],
        duress_pin_hash=r["duress_pin_hash"], on_test_permission=bool(r["on_test_permission"]),
        group_id=r["group_id"], phone_status=r["phone_status"], line_type=r["line_type"],
        created_at=r["created_at"], call_order=r["call_order"], quiet_hours=r["quiet_hours"], language=r["language"],
    )


def verification_from_row(r: Mapping[str, Any], recipients: Sequence[Mapping[str, Any]] = ()) -> Verification:
    return Verification(
        id=r["id"], site_id=r["site_id"], event_id=r["event_id"], process=r["process"], status=r["status"],
        created_at=r["created_at"], timeout_at=r["timeout_at"], response=r["response"],
        responded_at=r["responded_at"], responded_by=r["responded_by"], method=r["method"],
        require_response=bool(r["require_response"]), message=r["message"],
        responder_name=r["responder_name"] if "responder_name" in r.keys() else None,
        call_list=msgspec.json.decode(r["call_list"], type=CallList) if r.get("call_list") else None,
        recipients=tuple(
            Recipient(contact_id=x["contact_id"], phone=x["phone"], status=x["status"], response=x["response"],
                      responded_at=x["responded_at"], channel=x["channel"], email=x["email"],
                      error=x["error"], step=x["step"], due_at=x["due_at"])
            for x in recipients
        ),
    )


def site_and_alarm_of(r: Mapping[str, Any]) -> tuple[Site, AlarmEvent | None]:
    """The site and alarm event an ``open_verifications_for_phone`` row carries."""
    site = Site(id=r["site_id"], dealer_id=r["site_dealer_id"], name=r["site_name"], time_zone=r["site_time_zone"],
                on_test_until=r["site_on_test_until"], created_at=r["site_created_at"])
    if r["alarm_id"] is None:
        return site, None
    return site, AlarmEvent(id=r["alarm_id"], site_id=r["site_id"], event_code=r["alarm_event_code"],
                            zone=r["alarm_zone"], text=r["alarm_text"], received_at=r["alarm_received_at"])


def dispatch_from_row(r: Mapping[str, Any]) -> Dispatch:
    return Dispatch(id=r["id"], site_id=r["site_id"], template=r["template"], code=r["code"],
                    created_at=r["created_at"], reply_until=r["reply_until"],
                    recipients=((r["recipient_contact_id"], ""),) if "recipient_contact_id" in r.keys() else ())


def failed_text_from_row(r: Mapping[str, Any]) -> FailedText:
    return FailedText(outbound_id=r["id"], contact_id=r["contact_id"], kind=r["kind"], status=r["status"],
                      error_code=r["error_code"], error=r["error_message"], at=r["updated_at"])


def outbound_text_from_row(r: Mapping[str, Any], reports: Sequence[Mapping[str, Any]] = ()) -> OutboundText:
    return OutboundText(
        id=r["id"], kind=r["kind"], channel=r["channel"], status=r["status"], to_phone=r["to_phone"],
        to_address=r["to_address"], body=r["body"], site_id=r["site_id"], contact_id=r["contact_id"],
        verification_id=r["verification_id"], inbound_id=r["inbound_id"], attempts=r["attempts"],
        created_at=r["created_at"], sent_at=r["sent_at"], updated_at=r["updated_at"],
        carrier=r["carrier"], carrier_message_id=r["carrier_message_id"], error_code=r["error_code"],
        error=r["error_message"],
        reports=tuple(CarrierReport(status=x["status"], error_code=x["error_code"], at=x["received_at"])
                      for x in reports))


def inbound_text_from_row(r: Mapping[str, Any]) -> InboundText:
    return InboundText(id=r["id"], carrier=r["carrier"], carrier_message_id=r["carrier_message_id"],
                       from_phone=r["from_phone"], to_phone=r["to_phone"], body=r["body"],
                       received_at=r["received_at"])


def outbox_item_from_row(r: Mapping[str, Any]) -> OutboxItem:
    return OutboxItem(
        id=r["id"], kind=r["kind"], priority=r["priority"], to_phone=r["to_phone"], from_phone=r["from_phone"],
        body=r["body"], segments=r["segments"], attempts=r["attempts"], created_at=r["created_at"],
        expires_at=r["expires_at"], site_id=r["site_id"], contact_id=r["contact_id"],
        verification_id=r["verification_id"], channel=r["channel"], to_address=r["to_address"], subject=r["subject"],
        carrier=r.get("carrier"), carrier_message_id=r.get("carrier_message_id"),
    )


def alarm_from_row(r: Mapping[str, Any]) -> AlarmEvent:
    return AlarmEvent(id=r["id"], site_id=r["site_id"], event_code=r["event_code"], zone=r["zone"], text=r["text"],
                      received_at=r["received_at"])


def group_from_row(r: Mapping[str, Any]) -> SiteGroup:
    return SiteGroup(id=r["id"], dealer_id=r["dealer_id"], name=r["name"], created_at=r["created_at"])


def interface_state_from_row(r: Mapping[str, Any]) -> InterfaceState:
    return InterfaceState(
        phone=r["phone"], session_contact_id=r["session_contact_id"], session_expires_at=r["session_expires_at"],
        session_duress=bool(r["session_duress"]), failures=r["failures"], failures_since=r["failures_since"],
        locked_until=r["locked_until"], pending_command=r["pending_command"],
        pending_until=r["pending_until"], replies=r["replies"], replies_since=r["replies_since"],
        muted_until=r["muted_until"],
    )


def log_row_from_row(r: Mapping[str, Any]) -> LogRow:
    return LogRow(id=r["id"], at=r["at"], code=r["code"], site_id=r["site_id"], contact_id=r["contact_id"],
                  phone=r["phone"], verification_id=r["verification_id"], event_id=r["event_id"],
                  comment=r["comment"], details=r["details"] or None,
                  trace_id=r["trace_id"])


def welcome_from_row(r: Mapping[str, Any]) -> Welcome:
    return Welcome(contact_id=r["contact_id"], state=r["state"], send_error=r["send_error"],
                   token_expires_at=r["token_expires_at"], sent_at=r["sent_at"],
                   confirmed_at=r["confirmed_at"])


def oauth_client_from_row(r: Mapping[str, Any]) -> OAuthClient:
    return OAuthClient(client_id=r["id"], dealer_id=r["dealer_id"], secret_hash=r["secret_hash"], name=r["name"],
                       created_at=r["created_at"])


def held_ref_from_row(r: Mapping[str, Any]) -> HeldRef:
    """A ``reply_refs_for_phone`` row."""
    alarm = None if r["alarm_id"] is None else AlarmEvent(
        id=r["alarm_id"], site_id=r["alarm_site_id"], event_code=r["alarm_event_code"], zone=r["alarm_zone"],
        text=r["alarm_text"], received_at=r["alarm_received_at"])
    return HeldRef(ref=r["ref"], alarm_key=r["alarm_key"], verification_id=r["verification_id"], status=r["status"],
                   created_at=r["created_at"], timeout_at=r["timeout_at"], site_name=r["site_name"], alarm=alarm)
