"""The Verifications API (seed verifications-api.txt) and Dispatch SMS under /ext/v1 (bearer API key)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web

from gateway.clock import isoformat
from gateway.errors import NotFound
from gateway.model import Verification
from gateway.web.appkeys import STORE, TRACE_ID, VERIFICATIONS
from gateway.web.bodies import decode_json
from gateway.web.ext_api import require_key
from gateway.web.views import contact_names, verification_json

routes = web.RouteTableDef()

ContactRef = Annotated[int, msgspec.Meta(ge=1)] | Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Contacts = Annotated[list[ContactRef], msgspec.Meta(
    min_length=1, max_length=200,
    description='Contact ids as the Contacts API gives them (1, "1" or "contact_1"), or ["all"].')]
Method = Annotated[str, msgspec.Meta(description="sms or email (push and call: 422 UNSUPPORTED_METHOD)")]
Message = Annotated[str, msgspec.Meta(min_length=1, max_length=1600)]
Timeout = Annotated[int, msgspec.Meta(ge=10, description="seconds to wait for a response (default 300)")]
Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class EventVerificationIn(msgspec.Struct, forbid_unknown_fields=True):
    contacts: Contacts
    method: Method
    message: Message | None = None
    timeout_seconds: Timeout | None = None
    site_id: Ident | None = None  # for an event the gateway has not seen


class GeneralVerificationIn(msgspec.Struct, forbid_unknown_fields=True):
    site_id: Ident
    contacts: Contacts
    method: Method
    subject: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    message: Message | None = None
    require_response: bool = True
    timeout_seconds: Timeout | None = None


class DispatchIn(msgspec.Struct, forbid_unknown_fields=True):
    site_id: Ident
    contacts: Contacts
    template: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    variables: dict[Annotated[str, msgspec.Meta(max_length=40)], Annotated[str, msgspec.Meta(max_length=500)]] = {}
    text: Message | None = None


async def _respond(request: web.Request, v: Verification) -> web.Response:
    return web.json_response({"data": verification_json(v, await contact_names(request.app[STORE], v))})


@routes.post("/ext/v1/events/{event_id}/verifications")
async def event_verification(request: web.Request) -> web.Response:
    """Send an alarm verification for one event to chosen contacts of its site."""
    await require_key(request)
    body = await decode_json(request, EventVerificationIn)
    v = await request.app[VERIFICATIONS].create(
        site_id=body.site_id, event_id=request.match_info["event_id"][:64], contacts=body.contacts,
        method=body.method, message=body.message, subject=None, timeout_seconds=body.timeout_seconds,
        require_response=True, trace_id=request[TRACE_ID])
    return await _respond(request, v)


@routes.post("/ext/v1/verifications")
async def general_verification(request: web.Request) -> web.Response:
    """Send a verification not tied to an event (``require_response: false`` for a notice)."""
    await require_key(request)
    body = await decode_json(request, GeneralVerificationIn)
    v = await request.app[VERIFICATIONS].create(
        site_id=body.site_id, event_id=None, contacts=body.contacts, method=body.method, message=body.message,
        subject=body.subject, timeout_seconds=body.timeout_seconds, require_response=body.require_response,
        trace_id=request[TRACE_ID])
    return await _respond(request, v)


@routes.get("/ext/v1/verifications/{verification_id}")
async def get_verification(request: web.Request) -> web.Response:
    await require_key(request)
    v = await request.app[STORE].get_verification(request.match_info["verification_id"])
    if v is None:
        raise NotFound("No such verification.", verification_id=request.match_info["verification_id"])
    return await _respond(request, v)


@routes.post("/ext/v1/dispatches")
async def dispatch(request: web.Request) -> web.Response:
    """A Dispatch SMS: a keywords.yaml dispatch template with its variables, or the operator's edited text."""
    await require_key(request)
    body = await decode_json(request, DispatchIn)
    sent, outbound = await request.app[VERIFICATIONS].dispatch(
        site_id=body.site_id, contacts=body.contacts, template=body.template, text=body.text,
        variables=dict(body.variables), trace_id=request[TRACE_ID])
    return web.json_response({"data": {
        "dispatch_id": sent.id, "site_id": sent.site_id, "template": sent.template, "code": sent.code,
        "reply_until": isoformat(sent.reply_until),
        "sent_to": [{"contact_id": m.contact_id, "phone": m.to_phone, "text": m.body} for m in outbound]}},
        status=201)
