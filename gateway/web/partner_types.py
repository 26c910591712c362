"""The partner API's wire types: they decode requests, encode answers and make its OpenAPI schemas."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from gateway.clock import isoformat
from gateway.model import Contact, Site
from gateway.stores import Welcome
from gateway.web.openapi import Timestamp

UNSET = msgspec.UNSET
Unset = msgspec.UnsetType
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="No control characters (422); bidi "
                                   "embedding, override and isolate characters are removed")]
ExternalId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, description="Your system's id for the "
                                         "contact; unique within the site; no control or bidi characters (422)")]
PhoneText = Annotated[str, msgspec.Meta(max_length=32, description="As people write it; stored and returned "
                                        "as E.164 (numbers without +country use the configured default region)")]
Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^(|[^@\s]+@[^@\s]+\.[^@\s]+)$")]
Title = Annotated[str, msgspec.Meta(max_length=64, description="As Name")]
Language = Annotated[str, msgspec.Meta(min_length=2, max_length=35, description="BCP 47, e.g. en-US: what a "
                                       "verification call speaks (default: voice.language)")]
Slot = Annotated[int, msgspec.Meta(ge=1, le=9999, description="The contact's slot in the automation platform")]
CallOrder = Annotated[int, msgspec.Meta(ge=0, le=9999, description=(
    "Place in the site's call list, lower first: auto processes with escalation in_order reach contacts in this "
    "order (contacts without one come after, by slot_number)"))]
QuietHours = Annotated[str, msgspec.Meta(max_length=11, pattern=r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$", examples=["22:00-07:00"],
                                        description="HH:MM-HH:MM in time_zone (else the site's): non-urgent auto "
                                                    "processes wait until they end; urgent ones do not")]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64, description="IANA time zone",
                                       examples=["America/New_York"])]
DealerId = Annotated[str, msgspec.Meta(description="The dealer your OAuth client acts for", examples=["12345"])]
SiteId = Annotated[str, msgspec.Meta(description="A site_id as returned by this API")]
ContactId = Annotated[int, msgspec.Meta(ge=1, description="A contact_id (a number) as returned by this API")]
EmailVerification = Annotated[bool, msgspec.Meta(
    description="Also send alarm verifications to the email address (in addition to SMS)")]
AutoNotify = Annotated[bool, msgspec.Meta(
    description="Receives the auto-process verification texts; default: true when there is a phone number")]


class SiteIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    time_zone: TimeZone = "UTC"


class SiteOut(msgspec.Struct, kw_only=True):
    site_id: str
    dealer_id: str
    name: str
    time_zone: str
    created_at: Timestamp


class ContactIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    external_contact_id: ExternalId
    first_name: Name
    last_name: Name
    phone_number: PhoneText | None = None
    email: Email | None = None
    title: Title | None = None
    slot_number: Slot | None = None
    email_verification: EmailVerification = False
    auto_notify: AutoNotify | None = None
    call_order: CallOrder | None = None
    quiet_hours: QuietHours | None = None
    time_zone: TimeZone | None = None
    language: Language | None = None


class ContactUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Only the fields given change; ``null`` clears an optional one."""

    external_contact_id: ExternalId | Unset = UNSET
    first_name: Name | Unset = UNSET
    last_name: Name | Unset = UNSET
    phone_number: PhoneText | None | Unset = UNSET
    email: Email | None | Unset = UNSET
    title: Title | None | Unset = UNSET
    slot_number: Slot | None | Unset = UNSET
    email_verification: EmailVerification | Unset = UNSET
    auto_notify: AutoNotify | Unset = UNSET
    call_order: CallOrder | None | Unset = UNSET
    quiet_hours: QuietHours | None | Unset = UNSET
    time_zone: TimeZone | None | Unset = UNSET
    language: Language | None | Unset = UNSET


class ContactVerification(msgspec.Struct, kw_only=True):
    """Whether the number can take texts, and where the contact stands with the welcome message."""

    phone: Literal["unknown", "valid", "invalid"]
    welcome: Literal["none", "pending", "confirmed", "send_error"]
    send_error: str | None


class ContactOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    contact_id: int
    external_contact_id: str | None
    first_name: str
    last_name: str
    phone_number: Annotated[str | None, msgspec.Meta(description="E.164")]
    email: str | None
    created_at: Timestamp
    title: str | None
    slot_number: int | None
    email_verification: bool
    auto_notify: bool
    verification: ContactVerification
    call_order: int | None = None
    quiet_hours: str | None = None
    time_zone: str | None = None
    language: str | None = None


def site_out(site: Site) -> SiteOut:
    return SiteOut(site_id=site.id, dealer_id=site.dealer_id, name=site.name, time_zone=site.time_zone,
                   created_at=isoformat(site.created_at))


def contact_out(contact: Contact, welcome: Welcome | None) -> ContactOut:
    return ContactOut(
        contact_id=contact.id, external_contact_id=contact.external_contact_id, first_name=contact.first_name,
        last_name=contact.last_name, phone_number=contact.phone, email=contact.email,
        created_at=isoformat(contact.created_at), title=contact.title, slot_number=contact.slot_number,
        email_verification=contact.email_notify, auto_notify=contact.auto_notify, call_order=contact.call_order,
        quiet_hours=contact.quiet_hours, time_zone=contact.time_zone, language=contact.language,
        verification=ContactVerification(phone=contact.phone_status, welcome=welcome.state if welcome else "none",
                                         send_error=welcome.send_error if welcome else None))
