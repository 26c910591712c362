"""Sites and their contacts as the command line and the partner API set them up: one rule for both ways in."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from gateway import codes
from gateway.clock import Clock
from gateway.core import quiet_hours
from gateway.core.voice import language_tag
from gateway.core.phone import to_e164
from gateway.core.plain_text import clean, identifier
from gateway.daemon.metrics import Metrics
from gateway.errors import DuplicateContact, DuplicateKey, GatewayError, InvalidPhoneNumber, UnknownSite, ValidationFailed
from gateway.model import Contact, LogEntry, Site, SiteGroup
from gateway.services.lookups import PhoneLookups, Validation
from gateway.stores import Store

log = logging.getLogger(__name__)
# A contact's text fields: the rule for each, in the order a request's mistakes are reported.
TEXT_FIELDS = {"external_contact_id": identifier, "first_name": clean, "last_name": clean, "title": clean,
               "email": identifier}
REQUIRED = frozenset({"first_name", "last_name"})


@dataclass(frozen=True)
class Form:
    """How one way in names the fields (an error names the field as its caller wrote it), and what it requires."""

    names: Mapping[str, str] = field(default_factory=dict)  # model field -> the caller's name for it
    external_id_required: bool = False

    def name(self, attribute: str) -> str:
        return self.names.get(attribute, attribute)


async def find_site(store: Store, site_id: str, dealer_id: str | None = None) -> Site:
    """The site ``site_id``; SITE_NOT_FOUND when there is none, or (with ``dealer_id``) when it is another dealer's."""
    site = await store.get_site(site_id)
    if site is None or (dealer_id is not None and site.dealer_id != dealer_id):
        raise UnknownSite(f"No site {site_id!r}.", site_id=site_id)
    return site


def _time_zone(name: str, label: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"{label}: {name!r} is not an IANA time zone (e.g. America/New_York).",
                               field=label) from None
    return name


def _phone(raw: str | None, region: str, label: str) -> str | None:
    if raw is None or not raw.strip():
        return None
    try:
        return to_e164(raw, region)
    except InvalidPhoneNumber as exc:
        raise ValidationFailed(f"{label}: {exc.message}", field=label) from None


def checked(contact: Contact, changes: Mapping[str, Any], region: str, form: Form) -> Contact:
    """``contact`` with ``changes`` (values as given, by model field) made: text fields cleaned, the phone in
    E.164, the time zone known; ``auto_notify`` None means "when there is a phone". ValidationFailed otherwise."""
    values = dict(changes)
    for attribute, rule in TEXT_FIELDS.items():
        if attribute in values:
            required = attribute in REQUIRED or (attribute == "external_contact_id" and form.external_id_required)
            values[attribute] = rule(values[attribute], form.name(attribute), required=required)
    if "phone" in values:
        values["phone"] = _phone(values["phone"], region, form.name("phone"))
    if values.get("time_zone") is not None:
        _time_zone(values["time_zone"], form.name("time_zone"))
    if values.get("quiet_hours") is not None:
        try:
            values["quiet_hours"] = quiet_hours.normalised(values["quiet_hours"])
        except ValueError as exc:
            raise ValidationFailed(f"{form.name('quiet_hours')}: {exc}", field=form.name("quiet_hours")) from None
    if values.get("call_order") is not None and not 0 <= values["call_order"] <= 9999:
        raise ValidationFailed(f"{form.name('call_order')} must be 0 to 9999.", field=form.name("call_order"))
    if values.get("language") is not None:
        values["language"] = language_tag(values["language"], form.name("language"))
    if "auto_notify" in values and values["auto_notify"] is None:
        values["auto_notify"] = values.get("phone", contact.phone) is not None
    contact = msgspec.structs.replace(contact, **values)
    if contact.auto_notify and not contact.phone:
        raise ValidationFailed(f"{form.name('auto_notify')} needs {form.name('phone')}: auto processes text the "
                               "contact.", field=form.name("phone"))
    if contact.email_notify and not contact.email:
        raise ValidationFailed(f"{form.name('email_notify')} needs {form.name('email')}: verifications by email "
                               "go there.", field=form.name("email"))
    return contact


class SiteService:
    def __init__(self, store: Store, clock: Clock, region: str, *, metrics: Metrics | None = None,
                 lookups: PhoneLookups | None = None) -> None:
        self.store, self.clock, self.region = store, clock, region
        self.metrics = metrics or Metrics()  # a command's own, never scraped
        self.lookups = lookups  # with carrier.twilio.lookup_on_create: new phones are looked up

    async def create_site(self, *, dealer_id: str, name: str, time_zone: str, form: Form,
                          trace_id: str | None = None) -> Site:
        site = Site(id="site_" + secrets.token_hex(4), dealer_id=identifier(dealer_id, form.name("dealer_id"),
                                                                         required=True),
                    name=clean(name, form.name("name"), required=True),
                    time_zone=_time_zone(time_zone, form.name("time_zone")), created_at=self.clock.now())
        await self.store.add_site(site)
        log.info("trace=%s site %s created for dealer %s", trace_id, site.id, site.dealer_id)
        return site

    async def create_contact(self, of: Site | SiteGroup, fields: Mapping[str, Any], form: Form,
                             trace_id: str | None = None) -> tuple[Contact, Validation | None]:
        """A new contact of a site or a site group, and the carrier's lookup of its phone when one was made.

        A lookup that fails leaves the phone's status unknown; the contact is created all the same.
        """
        group = isinstance(of, SiteGroup)
        draft = Contact(id=0, site_id=None if group else of.id, group_id=of.id if group else None, first_name="",
                        last_name="", created_at=self.clock.now())
        contact = await self._saved(checked(draft, fields, self.region, form), form, self.store.create_contact)
        log.info("trace=%s contact %d created on %s %s", trace_id, contact.id, "group" if group else "site", of.id)
        if self.lookups is None or not contact.phone:
            return contact, None
        try:
            validation = await self.lookups.validate_contact(contact.id)
        except GatewayError as exc:
            log.warning("trace=%s contact %d: phone lookup failed: %s", trace_id, contact.id, exc.message)
            return contact, None
        return validation.contact, validation

    async def update_contact(self, contact: Contact, changes: Mapping[str, Any], form: Form,
                             trace_id: str | None = None) -> Contact:
        """``contact`` with ``changes`` made; a new phone resets the welcome: the new number has confirmed nothing."""
        changed = checked(contact, changes, self.region, form)
        updated = await self._saved(changed, form, lambda c: self.store.update_contact(
            c, reset_welcome=c.phone != contact.phone))
        log.info("trace=%s contact %d of site %s updated: %s", trace_id, contact.id, contact.site_id,
                 ", ".join(sorted(changes)) or "nothing")
        return updated

    async def _saved(self, contact: Contact, form: Form, save) -> Contact:
        try:
            return await save(contact)
        except DuplicateKey as exc:
            raise DuplicateContact(exc.message, field=form.name("external_contact_id")) from None

    async def delete_contact(self, site: Site, contact: Contact, trace_id: str | None = None) -> int:
        """Delete ``contact`` (nothing texts it any more), log CONTACTDEL, and SITENOCONTACT when it was the site's
        last; the number of contacts left."""
        now = self.clock.now()
        base = dict(at=now, site_id=site.id, contact_id=contact.id, phone=contact.phone, trace_id=trace_id)
        logged: list[LogEntry] = []

        def log_for(remaining: int) -> list[LogEntry]:
            logged.append(LogEntry(code=codes.CONTACT_DELETED, comment=f"{contact.name} was deleted.",
                                   details={"remaining_contacts": remaining}, **base))
            if remaining == 0:
                logged.append(LogEntry(code=codes.SITE_NO_CONTACTS, details={"severity": "warning"},
                                       comment=f"{site.name} has no contact left: alarms cannot be verified by SMS.",
                                       **base))
            return logged

        remaining = await self.store.delete_contact(contact, now, log_for)
        self.metrics.logged(logged)
        log.info("trace=%s contact %d of site %s deleted", trace_id, contact.id, site.id)
        if remaining == 0:
            log.warning("trace=%s site %s has no contacts left", trace_id, site.id)
        return remaining
