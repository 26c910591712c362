"""The gateway's nouns as plain immutable records. No I/O here.

A little over 250 lines, and kept whole: every layer imports its records from this one module, and splitting
the nouns across files would only spread one vocabulary thin.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec


class Site(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    dealer_id: str
    name: str
    time_zone: str = "UTC"
    on_test_until: datetime | None = None
    created_at: datetime


class SiteGroup(msgspec.Struct, frozen=True, kw_only=True):
    """A named set of sites; its contacts may use the SMS interface for every site in it."""

    id: str
    dealer_id: str
    name: str
    created_at: datetime


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    site_id: str | None  # None for a contact of a site group
    first_name: str
    last_name: str
    phone: str | None = None  # E.164
    email: str | None = None
    external_contact_id: str | None = None
    auto_notify: bool = False
    email_notify: bool = False
    title: str | None = None
    slot_number: int | None = None
    time_zone: str | None = None
    pin_hash: str | None = None
    pin_expires_at: datetime | None = None
    duress_pin_hash: str | None = None
    on_test_permission: bool = False
    group_id: str | None = None
    phone_status: str = "unknown"  # unknown | valid | invalid, from a carrier lookup
    line_type: str | None = None  # mobile, landline, nonFixedVoip ... as the lookup named it
    created_at: datetime
    call_order: int | None = None  # place in the site's call list, lower first (None: after those with one)
    quiet_hours: str | None = None  # "22:00-07:00" in the contact's zone: non-urgent processes wait it out
    language: str | None = None  # BCP 47 (en-US) for a verification call; None: voice.language

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class AlarmEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An alarm signal from the automation platform: what the auto processes react to."""

    id: str
    site_id: str
    event_code: str
    zone: str | None = None
    text: str | None = None
    received_at: datetime


class InboundMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One SMS as a carrier handed it over, before anything is decided about it."""

    carrier: str
    carrier_message_id: str
    from_phone: str
    to_phone: str
    body: str
    received_at: datetime  # when the gateway took it (a carrier's own record: when the carrier did)
    carrier_received_at: datetime | None = None  # set for a text recovered from the carrier after the gateway missed it


class LogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the event log: what the gateway did, when, for which site, contact and verification."""

    code: str
    at: datetime
    site_id: str | None = None
    contact_id: int | None = None
    phone: str | None = None
    verification_id: str | None = None
    event_id: str | None = None
    comment: str | None = None
    details: dict[str, Any] | None = None
    trace_id: str | None = None


class LogRow(LogEntry, frozen=True, kw_only=True):
    """An event-log row as stored, with its id: the cursor readers page on."""

    id: int


MessageKind = Literal["verification", "reply", "dispatch", "notice", "welcome", "canary"]
Channel = Literal["sms", "email", "call", "push"]
# waiting: a later step of a call list, not reached yet; held: quiet hours, due when they end; skipped: not
# reached (opted out, landline, no phone), the list moved on; not_reached: the list ended before its step.
RecipientStatus = Literal["pending", "sent", "delivered", "failed", "waiting", "held", "skipped", "not_reached"]
VerificationStatus = Literal["pending", "sent", "delivered", "failed", "responded", "expired"]
Response = Literal["confirmed", "cancelled"]


class OutboundMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A text to send. Committed to the outbox before any carrier sees it."""

    to_phone: str
    body: str
    kind: MessageKind
    priority: int = 0
    from_phone: str | None = None
    site_id: str | None = None
    contact_id: int | None = None
    verification_id: str | None = None
    expires_at: datetime | None = None
    channel: Channel = "sms"
    to_address: str | None = None  # the email address, for channel email
    subject: str | None = None


# Outbox priorities: a verification outranks everything a person is not waiting on.
PRIORITY_VERIFICATION = 100
PRIORITY_REPLY = 50  # the answer to a text recovered late: it cannot go inline, and someone waits for it
PRIORITY_DISPATCH = 40
PRIORITY_NOTICE = 10


class Recipient(msgspec.Struct, frozen=True, kw_only=True):
    contact_id: int
    phone: str | None
    status: RecipientStatus = "pending"
    response: Response | None = None
    responded_at: datetime | None = None
    channel: Channel = "sms"
    email: str | None = None
    error: str | None = None  # why it failed
    step: int | None = None  # its step of the call list (1 first)
    due_at: datetime | None = None  # when a waiting or held recipient is reached


class CallStep(msgspec.Struct, frozen=True, kw_only=True):
    """One step of a call list: how its contact is reached (``everyone_left``: every contact left, at once)."""

    methods: tuple[str, ...]
    code: str | None = None  # the event code its step row logs; None: the list's step_code
    everyone_left: bool = False


class CallList(msgspec.Struct, frozen=True, kw_only=True):
    """How a verification reaches its contacts: all at once, or in call order, one step each ``step_seconds``
    without a decisive answer (the last step serves every later contact). Stored with the verification."""

    mode: Literal["all", "in_order"] = "all"
    step_seconds: int = 60
    steps: tuple[CallStep, ...] = (CallStep(methods=("sms",)),)
    urgent: bool = True  # False: a contact in quiet hours is reached when they end
    timeout_seconds: int = 300
    step_code: str = "SMSSTEP"
    skip_code: str = "SMSSKIP"
    held_code: str = "SMSQUIET"
    subject: str | None = None  # of its emails


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    site_id: str
    event_id: str | None
    process: str
    status: VerificationStatus
    created_at: datetime
    timeout_at: datetime
    response: Response | None = None
    responded_at: datetime | None = None
    responded_by: int | None = None
    recipients: tuple[Recipient, ...] = ()
    method: str = "sms"
    require_response: bool = True
    message: str | None = None
    responder_name: str | None = None  # of ``responded_by``, when read with it
    call_list: CallList | None = None  # None: all at once


class VerificationResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A decisive answer (confirm or cancel) to an open verification."""

    verification_id: str
    contact_id: int
    response: Response
    at: datetime


class InterfaceState(msgspec.Struct, frozen=True, kw_only=True):
    """The SMS interface's memory of one phone number: session, PIN failures, lockout, reply budget."""

    phone: str
    session_contact_id: int | None = None
    session_expires_at: datetime | None = None
    session_duress: bool = False
    failures: int = 0
    failures_since: datetime | None = None
    locked_until: datetime | None = None
    pending_command: str | None = None  # never holds a PIN
    pending_until: datetime | None = None
    replies: int = 0
    replies_since: datetime | None = None
    muted_until: datetime | None = None


class SiteTest(msgspec.Struct, frozen=True, kw_only=True):
    """Put a site on test until ``until``, or take it off test (``until`` None)."""

    site_id: str
    until: datetime | None


class Dispatch(msgspec.Struct, frozen=True, kw_only=True):
    """A Dispatch SMS an operator sent; replies from its recipients until ``reply_until`` are logged."""

    id: str
    site_id: str
    template: str | None
    code: str
    created_at: datetime
    reply_until: datetime
    recipients: tuple[tuple[int, str], ...] = ()  # (contact id, phone)


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    """An event for webhook subscribers (``verification.responded``...), queued with the change it reports."""

    event_type: str
    data: dict[str, Any]
    at: datetime


class ReplyRef(msgspec.Struct, frozen=True, kw_only=True):
    """A reply reference given to a phone with a verification text (gateway/core/reply_refs.py): the store holds
    it until ``held_until``, and refuses the decision when another alarm took the number meanwhile."""

    phone: str
    ref: int
    alarm_key: str
    verification_id: str
    site_id: str
    created_at: datetime
    held_until: datetime


class Decision(msgspec.Struct, kw_only=True):
    """What the pipeline decided: everything to write, in one transaction, and what to answer."""

    inbound: InboundMessage | None = None  # recorded first: a duplicate id aborts the rest
    alarm: AlarmEvent | None = None  # likewise idempotent on its id
    log: list[LogEntry] = msgspec.field(default_factory=list)
    outbound: list[OutboundMessage] = msgspec.field(default_factory=list)
    replies: list[str] = msgspec.field(default_factory=list)
    opened: list[Verification] = msgspec.field(default_factory=list)
    responses: list[VerificationResponse] = msgspec.field(default_factory=list)
    interface_state: InterfaceState | None = None  # written when it changed
    site_tests: list[SiteTest] = msgspec.field(default_factory=list)
    notifications: list[Notification] = msgspec.field(default_factory=list)
    dispatches: list[Dispatch] = msgspec.field(default_factory=list)
    reply_refs: list[ReplyRef] = msgspec.field(default_factory=list)


# Twilio: delivery status, opt-outs, lookups

# A carrier's delivery reports in the order a message goes through them; a report never moves a
# message back. The final ones settle the outbox row (undelivered counts as a failure).
DELIVERY_RANK = {"accepted": 1, "scheduled": 1, "queued": 1, "sending": 2, "sent": 3,
                 "delivered": 4, "undelivered": 4, "failed": 4, "canceled": 4, "read": 5}
DELIVERY_OUTCOME = {"delivered": "delivered", "read": "delivered", "undelivered": "undelivered",
                    "failed": "failed", "canceled": "failed"}


class DeliveryReport(msgspec.Struct, frozen=True, kw_only=True):
    """A carrier's word on a message it accepted: its status now and, for failures, its error code."""

    carrier: str
    carrier_message_id: str
    status: str
    error_code: str | None = None
    at: datetime

    @property
    def rank(self) -> int:
        return DELIVERY_RANK.get(self.status, 0)

    @property
    def outcome(self) -> str | None:
        """``delivered``, ``undelivered`` or ``failed`` for a final report, else None."""
        return DELIVERY_OUTCOME.get(self.status)


class PhoneLookup(msgspec.Struct, frozen=True, kw_only=True):
    """What the carrier's number lookup said about a phone number."""

    phone: str
    valid: bool
    line_type: str | None = None
    carrier_name: str | None = None
    looked_up_at: datetime

    @property
    def phone_status(self) -> str:
        """``valid`` for a number that can take a text, ``invalid`` for a landline or bad number, else ``unknown``."""
        if not self.valid or self.line_type == "landline":
            return "invalid"
        return "valid" if self.line_type in ("mobile", "nonFixedVoip") else "unknown"
