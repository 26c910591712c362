"""How records look in JSON answers: one type and one builder per record, shared by every route
that shows it (and by the OpenAPI document, which reads the same types)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from gateway.clock import isoformat
from gateway.model import Verification
from gateway.stores import Store
from gateway.web.openapi import Timestamp


class SentTo(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One recipient of a verification, by one channel."""

    contact_id: Annotated[int, msgspec.Meta(description="The Contacts API's contact_id (a number)")]
    name: str | None
    channel: Annotated[str, msgspec.Meta(description="sms, email, call or push")]
    phone: str | None = None
    email: str | None = None
    status: Annotated[str, msgspec.Meta(description="pending, sent, delivered, failed or removed")]
    error: str | None
    response: Annotated[str | None, msgspec.Meta(description="confirmed or cancelled, from this recipient")]
    responded_at: Timestamp | None


class VerificationOut(msgspec.Struct, kw_only=True):
    verification_id: str
    event_id: str | None
    site_id: str
    status: Annotated[str, msgspec.Meta(
        description="pending, sent, delivered, failed, responded or expired")]
    method: str
    process: Annotated[str, msgspec.Meta(description="The keywords.yaml auto process that takes the replies")]
    sent_at: Timestamp
    timeout_at: Annotated[Timestamp | None, msgspec.Meta(description="None when no response is required")]
    require_response: bool
    response: Annotated[str | None, msgspec.Meta(description="confirmed or cancelled: the first decisive answer")]
    responded_at: Timestamp | None
    responded_by: int | None
    sent_to: list[SentTo]


def verification_json(v: Verification, names: dict[int, str | None] | None = None) -> VerificationOut:
    """A verification as the seed shows it; contact ids are the Contacts API's numbers."""
    names = names or {}
    return VerificationOut(
        verification_id=v.id, event_id=v.event_id, site_id=v.site_id, status=v.status, method=v.method,
        process=v.process, sent_at=isoformat(v.created_at),
        timeout_at=isoformat(v.timeout_at) if v.require_response else None, require_response=v.require_response,
        response=v.response, responded_at=isoformat(v.responded_at) if v.responded_at else None,
        responded_by=v.responded_by,
        sent_to=[SentTo(contact_id=r.contact_id, name=names.get(r.contact_id), channel=r.channel,
                        phone=r.phone if r.channel in ("sms", "call") else None,
                        email=r.email if r.channel == "email" else None, status=r.status, error=r.error,
                        response=r.response, responded_at=isoformat(r.responded_at) if r.responded_at else None)
                 for r in v.recipients],
    )


async def contact_names(store: Store, v: Verification) -> dict[int, str | None]:
    """The names of a verification's recipients, for ``sent_to``."""
    names: dict[int, str | None] = {}
    for r in v.recipients:
        if r.contact_id not in names:
            contact = await store.get_contact(r.contact_id)
            names[r.contact_id] = contact.name if contact else None
    return names
