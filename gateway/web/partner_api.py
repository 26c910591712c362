"""The /partner/v1 Contacts API: a dealer's sites and their contacts (OAuth 2.0 bearer tokens).

Access: a token acts for one dealer. Another ``dealerId`` in the path is 403 whatever it
names (existing or not); a site or contact that is not under the caller's dealer is 404
with exactly the body of one that does not exist.
"""

from __future__ import annotations

import re

import msgspec
from aiohttp import web

from gateway.auth.hashes import same
from gateway.errors import ContactNotFound, DealerForbidden
from gateway.model import Contact, Site
from gateway.services.sites import Form, find_site
from gateway.web.appkeys import PARTNER_AUTH, SITES as SITE_SERVICE, STORE, TRACE_ID, WELCOME
from gateway.web.bodies import decode_json, respond
from gateway.web.openapi import PARTNER_OAUTH, Param, operation
from gateway.web.partner_types import (UNSET, ContactId, ContactIn, ContactOut, ContactUpdate, DealerId, SiteId,
                                       SiteIn, SiteOut, contact_out, site_out)

routes = web.RouteTableDef()

SITES = "/partner/v1/dealers/{dealerId}/sites"
SITE = SITES + "/{siteId}"
CONTACTS = SITE + "/contacts"
CONTACT = CONTACTS + "/{contactId}"
_CONTACT_ID = re.compile(r"[0-9]{1,18}")
WIRE_NAMES = {"phone": "phone_number", "email_notify": "email_verification"}  # model field -> this API's name
PARTNER = Form(names=WIRE_NAMES, external_id_required=True)

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
    return await find_site(request.app[STORE], request.match_info["siteId"], dealer_id=await _dealer(request))


async def _contact(request: web.Request) -> tuple[Site, Contact]:
    site = await _site(request)
    raw = request.match_info["contactId"]
    contact = await request.app[STORE].get_contact(int(raw)) if _CONTACT_ID.fullmatch(raw) else None
    if contact is None or contact.site_id != site.id:
        raise ContactNotFound(f"No contact {raw!r} on site {site.id!r}.", contact_id=raw)
    return site, contact


def _given(body: msgspec.Struct) -> dict[str, object]:
    """The fields a request body gives, by model field."""
    model = {wire: field for field, wire in WIRE_NAMES.items()}
    return {model.get(name, name): value for name in body.__struct_fields__
            if (value := getattr(body, name)) is not UNSET}


async def _out(request: web.Request, contact: Contact) -> ContactOut:
    return contact_out(contact, await request.app[STORE].get_welcome(contact.id))


@routes.post(SITES)
@operation(summary="Create a site", tag="sites", security=PARTNER_OAUTH, body=SiteIn, params=[DEALER],
           responses={201: (SiteOut, "The site")}, errors={**AUTH_ERRORS, **BODY_ERRORS})
async def create_site(request: web.Request) -> web.Response:
    dealer = await _dealer(request)
    body = await decode_json(request, SiteIn)
    site = await request.app[SITE_SERVICE].create_site(dealer_id=dealer, name=body.name, time_zone=body.time_zone,
                                                       form=PARTNER, trace_id=request[TRACE_ID])
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
    contact, _ = await request.app[SITE_SERVICE].create_contact(site, _given(body), PARTNER, request[TRACE_ID])
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
    _, contact = await _contact(request)
    body = await decode_json(request, ContactUpdate)
    updated = await request.app[SITE_SERVICE].update_contact(contact, _given(body), PARTNER, request[TRACE_ID])
    return respond(await _out(request, updated))


@routes.delete(CONTACT)
@operation(summary="Delete a contact", tag="contacts", security=PARTNER_OAUTH, params=[DEALER, SITE_P, CONTACT_P],
           responses={204: (None, "Deleted: no longer texted by auto processes, verifications or the outbox")},
           errors=CONTACT_ERRORS)
async def delete_contact(request: web.Request) -> web.Response:
    site, contact = await _contact(request)
    await request.app[SITE_SERVICE].delete_contact(site, contact, request[TRACE_ID])
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
