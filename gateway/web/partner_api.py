"""The /partner/v1 Contacts API: a dealer's sites and their contacts (OAuth 2.0 bearer tokens).

Access: a token acts for one dealer. Another ``dealerId`` in the path is 403 whatever it
names (existing or not); a site or contact that is not under the caller's dealer is 404
with exactly the body of one that does not exist.
"""

from __future__ import annotations

import logging
import re
import secrets
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from aiohttp import web

from gateway import codes
from gateway.core.plain_text import clean, identifier
from gateway.errors import (ContactNotFound, GatewayError, DealerForbidden, DuplicateContact, DuplicateKey, InvalidPhoneNumber,
                            UnknownSite, ValidationFailed)
from gateway.auth.hashes import same
from gateway.model import Contact, LogEntry, Site
from gateway.core.phone import to_e164
from gateway.web.appkeys import CLOCK, CONFIG, LOOKUPS, METRICS, PARTNER_AUTH, STORE, TRACE_ID, WELCOME
from gateway.web.bodies import decode_json, respond
from gateway.web.openapi import PARTNER_OAUTH, Param, operation
from gateway.web.partner_types import (UNSET, ContactId, ContactIn, ContactOut, ContactUpdate, DealerId, SiteId,
                                       SiteIn, SiteOut, contact_out, site_out)

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

SITES = "/partner/v1/dealers/{dealerId}/sites"
SITE = SITES + "/{siteId}"
CONTACTS = SITE + "/contacts"
CONTACT = CONTACTS + "/{contactId}"
_CONTACT_ID = re.compile(r"[0-9]{1,18}")

DEALER = Param("dealerId", "path", DealerId, "The dealer your OAuth client acts for")
SITE_P = Param("siteId", "path", SiteId, "A site of that dealer")
CONTACT_P = Param("contactId", "path", ContactId, "A contact of that site: its contact_id, a number")
AUTH_ERRORS = {401: "No, invalid, expired or revoked access token", 403: "The dealerId is not your client's dealer"}
SITE_ERRORS = {**AUTH_ERRORS, 404: "No such site for this dealer (or not yours: the same answer)"}
CONTACT_ERRORS = {**AUTH_ERRORS, 404: "No such site or contact (or not yours: the same answer)"}
BODY_ERRORS = {400: "Malformed JSON", 413: "Body too large", 415: "Not application/json",
               422: "Invalid field (details.field names it)"}


async def _dealer(request: web.Request) -> str:
    dealer = await request.app[PARTNER_AUTH].dealer_for(request.headers.get("Authorization"))
    if not same(dealer, request.match_info["dealerId"]):
        raise DealerForbidden()
    return dealer


async def _site(request: web.Request) -> Site:
    dealer = await _dealer(request)
    site_id = request.match_info["siteId"]
    site = await request.app[STORE].get_site(site_id)
    if site is None or site.dealer_id != dealer:
        raise UnknownSite(f"No site {site_id!r}.", site_id=site_id)
    return site


async def _contact(request: web.Request) -> tuple[Site, Contact]:
    site = await _site(request)
    raw = request.match_info["contactId"]
    contact = await request.app[STORE].get_contact(int(raw)) if _CONTACT_ID.fullmatch(raw) else None
    if contact is None or contact.site_id != site.id:
        raise ContactNotFound(f"No contact {raw!r} on site {site.id!r}.", contact_id=raw)
    return site, contact


def _phone(request: web.Request, raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    try:
        return to_e164(raw, request.app[CONFIG].phone.default_region)
    except InvalidPhoneNumber as exc:
        raise ValidationFailed(exc.message, field="phone_number") from None


def _check(contact: Contact) -> Contact:
    if contact.auto_notify and not contact.phone:
        raise ValidationFailed("auto_notify needs a phone_number: auto processes text the contact.",
                               field="phone_number")
    if contact.email_notify and not contact.email:
        raise ValidationFailed("email_verification needs an email address.", field="email")
    return contact


async def _looked_up(request: web.Request, contact: Contact) -> Contact:
    """With ``carrier.twilio.lookup_on_create``: the carrier's lookup marks the new phone valid or invalid.
    A lookup that fails leaves it unknown; the contact is created all the same."""
    lookups = request.app.get(LOOKUPS)
    if lookups is None or not contact.phone:
        return contact
    try:
        return (await lookups.validate_contact(contact.id)).contact
    except GatewayError as exc:
        log.warning("trace=%s contact %d: phone lookup failed: %s", request[TRACE_ID], contact.id, exc.message)
        return contact


async def _out(request: web.Request, contact: Contact) -> ContactOut:
    return contact_out(contact, await request.app[STORE].get_welcome(contact.id))


@routes.post(SITES)
@operation(summary="Create a site", tag="sites", security=PARTNER_OAUTH, body=SiteIn, params=[DEALER],
           responses={201: (SiteOut, "The site")}, errors={**AUTH_ERRORS, **BODY_ERRORS})
async def create_site(request: web.Request) -> web.Response:
    dealer = await _dealer(request)
    body = await decode_json(request, SiteIn)
    try:
        ZoneInfo(body.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"{body.time_zone!r} is not an IANA time zone.", field="time_zone") from None
    name = clean(body.name, "name", required=True)
    site = await request.app[STORE].add_site(Site(id="site_" + secrets.token_hex(4), dealer_id=dealer, name=name,
                                                  time_zone=body.time_zone, created_at=request.app[CLOCK].now()))
    log.info("trace=%s site %s created for dealer %s", request[TRACE_ID], site.id, dealer)
    return respond(site_out(site), 201, {"Location": request.path + "/" + site.id})


@routes.get(SITES)
@operation(summary="List the dealer's sites", tag="sites", security=PARTNER_OAUTH, params=[DEALER],
           responses={200: (list[SiteOut], "The sites, oldest first")}, errors=AUTH_ERRORS)
async def list_sites(request: web.Request) -> web.Response:
    dealer = await _dealer(request)
    return respond([site_out(s) for s in await request.app[STORE].list_sites(dealer)])


@routes.get(SITE)
@operation(summary="Get a site", tag="sites", security=PARTNER_OAUTH, params=[DEALER, SITE_P],
           responses={200: (SiteOut, "The site")}, errors=SITE_ERRORS)
async def get_site(request: web.Request) -> web.Response:
    return respond(site_out(await _site(request)))


@routes.post(CONTACTS)
@operation(summary="Create a contact", tag="contacts", security=PARTNER_OAUTH, body=ContactIn,
           params=[DEALER, SITE_P], responses={201: (ContactOut, "The contact")},
           errors={**SITE_ERRORS, **BODY_ERRORS, 409: "external_contact_id is already on this site"})
async def create_contact(request: web.Request) -> web.Response:
    site = await _site(request)
    body = await decode_json(request, ContactIn)
    phone = _phone(request, body.phone_number)
    contact = _check(Contact(
        id=0, site_id=site.id, external_contact_id=identifier(body.external_contact_id, "external_contact_id",
                                                              required=True),
        first_name=clean(body.first_name, "first_name", required=True),
        last_name=clean(body.last_name, "last_name", required=True), phone=phone,
        email=identifier(body.email, "email"), title=clean(body.title, "title"), slot_number=body.slot_number,
        email_notify=body.email_verification,
        auto_notify=phone is not None if body.auto_notify is None else body.auto_notify,
        created_at=request.app[CLOCK].now()))
    try:
        contact = await request.app[STORE].create_contact(contact)
    except DuplicateKey as exc:
        raise DuplicateContact(exc.message, field="external_contact_id") from None
    log.info("trace=%s contact %d created on site %s", request[TRACE_ID], contact.id, site.id)
    contact = await _looked_up(request, contact)
    return respond(await _out(request, contact), 201, {"Location": f"{request.path}/{contact.id}"})


@routes.get(CONTACTS)
@operation(summary="List a site's contacts", tag="contacts", security=PARTNER_OAUTH, params=[DEALER, SITE_P],
           responses={200: (list[ContactOut], "The contacts, in the order they were created")}, errors=SITE_ERRORS)
async def list_contacts(request: web.Request) -> web.Response:
    site = await _site(request)
    store = request.app[STORE]
    welcomes = await store.site_welcomes(site.id)
    return respond([contact_out(c, welcomes.get(c.id)) for c in await store.list_contacts(site.id)])


@routes.get(CONTACT)
@operation(summary="Get a contact", tag="contacts", security=PARTNER_OAUTH, params=[DEALER, SITE_P, CONTACT_P],
           responses={200: (ContactOut, "The contact")}, errors=CONTACT_ERRORS)
async def get_contact(request: web.Request) -> web.Response:
    _, contact = await _contact(request)
    return respond(await _out(request, contact))


@routes.put(CONTACT)
@operation(summary="Update a contact (only the fields given)", tag="contacts", security=PARTNER_OAUTH,
           body=ContactUpdate, params=[DEALER, SITE_P, CONTACT_P], responses={200: (ContactOut, "The contact")},
           errors={**CONTACT_ERRORS, **BODY_ERRORS, 409: "external_contact_id is already on this site"},
           description="A new phone_number resets the welcome state to none: the new number has confirmed "
                       "nothing.")
async def update_contact(request: web.Request) -> web.Response:
    site, contact = await _contact(request)
    body = await decode_json(request, ContactUpdate)
    changes = {}
    for field, rule, required in (("external_contact_id", identifier, True), ("first_name", clean, True),
                                  ("last_name", clean, True), ("email", identifier, False), ("title", clean, False)):
        if (value := getattr(body, field)) is not UNSET:
            changes[field] = rule(value, field, required=required)
    if body.phone_number is not UNSET:
        changes["phone"] = _phone(request, body.phone_number)
    for field, attr in (("slot_number", "slot_number"), ("email_verification", "email_notify"),
                        ("auto_notify", "auto_notify")):
        if (value := getattr(body, field)) is not UNSET:
            changes[attr] = value
    updated = _check(msgspec.structs.replace(contact, **changes))
    try:
        updated = await request.app[STORE].update_contact(updated, reset_welcome=updated.phone != contact.phone)
    except DuplicateKey as exc:
        raise DuplicateContact(exc.message, field="external_contact_id") from None
    log.info("trace=%s contact %d of site %s updated: %s", request[TRACE_ID], contact.id, site.id,
             ", ".join(sorted(changes)) or "nothing")
    return respond(await _out(request, updated))


@routes.delete(CONTACT)
@operation(summary="Delete a contact", tag="contacts", security=PARTNER_OAUTH, params=[DEALER, SITE_P, CONTACT_P],
           responses={204: (None, "Deleted: no longer texted by auto processes, verifications or the outbox")},
           errors=CONTACT_ERRORS)
async def delete_contact(request: web.Request) -> web.Response:
    site, contact = await _contact(request)
    trace_id = request[TRACE_ID]
    now = request.app[CLOCK].now()
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

    remaining = await request.app[STORE].delete_contact(contact, now, log_for)
    request.app[METRICS].logged(logged)
    log.info("trace=%s contact %d of site %s deleted", trace_id, contact.id, site.id)
    if remaining == 0:
        log.warning("trace=%s site %s has no contacts left", trace_id, site.id)
    return web.Response(status=204)


@routes.post(CONTACT + "/welcome")
@operation(summary="Send the welcome text", tag="contacts", security=PARTNER_OAUTH,
           params=[DEALER, SITE_P, CONTACT_P],
           responses={202: (ContactOut, "Queued; verification.welcome is now pending")},
           errors={**CONTACT_ERRORS, 422: "The contact has no phone number (code NO_PHONE_NUMBER)"},
           description="Texts the contact a link to a page with the central station's welcome message, an "
                       "introduction video and a Confirm button. Pressing it sets verification.welcome to "
                       "confirmed; a text that cannot be delivered sets send_error with the reason. Sending "
                       "again replaces the previous link.")
async def send_welcome(request: web.Request) -> web.Response:
    site, contact = await _contact(request)
    await request.app[WELCOME].send(site, contact, request[TRACE_ID])
    return respond(await _out(request, contact), 202)
