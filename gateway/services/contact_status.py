"""Where each contact of a site stands for texts: its banners, and its last text that failed."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.banners import Banner, contact_banners
from gateway.core.carrier_errors import in_words
from gateway.model import Contact
from gateway.stores import Store
from gateway.stores import FailedText


@dataclass(frozen=True)
class ContactStatus:
    contact: Contact
    welcome: str  # none | pending | confirmed | send_error
    opted_out: bool
    banners: list[Banner]
    last_failure: FailedText | None  # its newest failed text, unless a Send error banner shows it already
    last_failure_words: str | None  # the carrier's error of that text, in words


async def site_contacts(store: Store, site_id: str) -> list[ContactStatus]:
    """The site's contacts, each with its banners (gateway/core/banners.py)."""
    welcomes = await store.site_welcomes(site_id)
    failures = await store.last_failed_texts(site_id)
    result = []
    for contact in await store.list_contacts(site_id):
        welcome = welcomes.get(contact.id)
        failure = failures.get(contact.id)
        opted_out = bool(contact.phone) and await store.opted_out(contact.phone)
        state = welcome.state if welcome else "none"
        banners = contact_banners(
            phone=contact.phone, phone_status=contact.phone_status, line_type=contact.line_type, welcome=state,
            welcome_error=welcome.send_error if welcome else None,
            welcome_error_code=failure.error_code if failure and failure.kind == "welcome" else None,
            opted_out=opted_out)
        if failure is not None and failure.kind == "welcome" and state == "send_error":
            failure = None
        result.append(ContactStatus(contact=contact, welcome=state, opted_out=opted_out, banners=banners,
                                    last_failure=failure,
                                    last_failure_words=in_words(failure.error_code) if failure else None))
    return result
