"""The Verifications API and Dispatch SMS under /ext/v1 (bearer API key), in the automation platform's shapes."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from aiohttp import web

from gateway.clock import isoformat
from gateway.errors import NotFound
from gateway.model import Verification
from gateway.web.appkeys import STORE, TRACE_ID, VERIFICATIONS
from gateway.web.bodies import decode_json, respond
from gateway.web.ext_api import KEY_ERRORS, require_key
from gateway.web.openapi import API_KEY, Param, Timestamp, operation
from gateway.web.views import VerificationOut, contact_names, verification_json

routes = web.RouteTableDef()

ContactRef = Annotated[int, msgspec.Meta(ge=1, le=2**62)] | Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Contacts = Annotated[list[ContactRef], msgspec.Meta(
    min_length=1, max_length=200,
    description='Contact ids as the Contacts API gives them (1, "1" or "contact_1"), or ["all"].')]
Method = Annotated[str, msgspec.Meta(description="sms, email, call (a voice call: press 1 to confirm, 2 to cancel) "
                                                 "or push (Web Push to the contact's subscribed browsers; 422 "
                                                 "UNSUPPORTED_METHOD when push.backend is none)")]
Message = Annotated[str, msgspec.Meta(min_length=1, max_length=1600, description="Tabs and line breaks allowed; "
                                      "other control characters are 422; bidi controls are removed")]
Timeout = Annotated[int, msgspec.Meta(ge=10, description="seconds to wait for a response (default 300)")]
Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Escalation = Annotated[Literal["all", "in_order"], msgspec.Meta(
    description="all: every contact at once (the default); in_order: a call list, one contact at a time in the "
                "order `contacts` lists them (`[\"all\"]`: the site's call order), the next when no confirm or "
                "cancel came within step_seconds; the first decisive answer ends the list")]
StepSeconds = Annotated[int, msgspec.Meta(ge=10, le=3600, description="in_order: seconds per contact (default: the "
                                          "verifications.process's step_seconds, else 60)")]


class EventVerificationIn(msgspec.Struct, forbid_unknown_fields=True):
    contacts: Contacts
    method: Method
    message: Message | None = None
    timeout_seconds: Timeout | None = None
    site_id: Ident | None = None  # for an event the gateway has not seen
    escalation: Escalation = "all"
    step_seconds: StepSeconds | None = None


class GeneralVerificationIn(msgspec.Struct, forbid_unknown_fields=True):
    site_id: Ident
    contacts: Contacts
    method: Method
    subject: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    message: Message | None = None
    require_response: bool = True
    timeout_seconds: Timeout | None = None
    escalation: Escalation = "all"
    step_seconds: StepSeconds | None = None


class DispatchIn(msgspec.Struct, forbid_unknown_fields=True):
    site_id: Ident
    contacts: Contacts
    template: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    variables: dict[Annotated[str, msgspec.Meta(max_length=40)], Annotated[str, msgspec.Meta(max_length=500)]] = {}
    text: Message | None = None


class VerificationBody(msgspec.Struct):
    data: VerificationOut


class DispatchSentTo(msgspec.Struct, kw_only=True):
    contact_id: int
    phone: str
    text: str


class DispatchOut(msgspec.Struct, kw_only=True):
    dispatch_id: str
    site_id: str
    template: str | None
    code: Annotated[str, msgspec.Meta(description="The event code each text logged")]
    reply_until: Timestamp
    sent_to: list[DispatchSentTo]


class DispatchBody(msgspec.Struct):
    data: DispatchOut


SEND_ERRORS = {**KEY_ERRORS, 400: "Malformed JSON, or contact ids that name no contact of the site "
                                  "(code INVALID_CONTACT, details.invalid_contacts)",
               404: "No such site (code SITE_NOT_FOUND)", 413: "Body too large", 415: "Not application/json",
               422: "Invalid field (details.field); UNSUPPORTED_METHOD for push without push.backend; DELIVERY_FAILED "
                    "(details.reason, details.contact_id) when no recipient can be reached"}


async def _respond(request: web.Request, v: Verification) -> web.Response:
    return respond(VerificationBody(verification_json(v, await contact_names(request.app[STORE], v))))


@routes.post("/ext/v1/events/{event_id}/verifications")
@operation(summary="Send a verification for an event", tag="verifications", security=API_KEY,
           body=EventVerificationIn, params=[Param("event_id", "path", Ident, "The alarm event's id")],
           responses={200: (VerificationBody, "Sent (or queued: status pending)")}, errors=SEND_ERRORS)
async def event_verification(request: web.Request) -> web.Response:
    """Send an alarm verification for one event to chosen contacts of its site."""
    await require_key(request)
    body = await decode_json(request, EventVerificationIn)
    v = await request.app[VERIFICATIONS].create(
        site_id=body.site_id, event_id=request.match_info["event_id"][:64], contacts=body.contacts,
        method=body.method, message=body.message, subject=None, timeout_seconds=body.timeout_seconds,
        require_response=True, trace_id=request[TRACE_ID], escalation=body.escalation, step_seconds=body.step_seconds)
    return await _respond(request, v)


@routes.post("/ext/v1/verifications")
@operation(summary="Send a general verification", tag="verifications", security=API_KEY,
           body=GeneralVerificationIn, responses={200: (VerificationBody, "Sent (or queued: status pending)")},
           errors=SEND_ERRORS)
async def general_verification(request: web.Request) -> web.Response:
    """Send a verification not tied to an event (``require_response: false`` for a notice)."""
    await require_key(request)
    body = await decode_json(request, GeneralVerificationIn)
    v = await request.app[VERIFICATIONS].create(
        site_id=body.site_id, event_id=None, contacts=body.contacts, method=body.method, message=body.message,
        subject=body.subject, timeout_seconds=body.timeout_seconds, require_response=body.require_response,
        trace_id=request[TRACE_ID], escalation=body.escalation, step_seconds=body.step_seconds)
    return await _respond(request, v)


@routes.get("/ext/v1/verifications/{verification_id}")
@operation(summary="Read a verification", tag="verifications", security=API_KEY,
           params=[Param("verification_id", "path", str, "From the answer that sent it")],
           responses={200: (VerificationBody, "Its state, each recipient's delivery status and response")},
           errors={**KEY_ERRORS, 404: "No such verification"})
async def get_verification(request: web.Request) -> web.Response:
    await require_key(request)
    v = await request.app[STORE].get_verification(request.match_info["verification_id"])
    if v is None:
        raise NotFound("No such verification.", verification_id=request.match_info["verification_id"])
    return await _respond(request, v)


@routes.post("/ext/v1/dispatches")
@operation(summary="Send a Dispatch SMS", tag="verifications", security=API_KEY, body=DispatchIn,
           responses={201: (DispatchBody, "Queued; replies until reply_until log SMSReply")}, errors=SEND_ERRORS)
async def dispatch(request: web.Request) -> web.Response:
    """A Dispatch SMS: a keywords.yaml dispatch template with its variables, or the operator's edited text."""
    await require_key(request)
    body = await decode_json(request, DispatchIn)
    sent, outbound = await request.app[VERIFICATIONS].dispatch(
        site_id=body.site_id, contacts=body.contacts, template=body.template, text=body.text,
        variables=dict(body.variables), trace_id=request[TRACE_ID])
    return respond(DispatchBody(DispatchOut(
        dispatch_id=sent.id, site_id=sent.site_id, template=sent.template, code=sent.code,
        reply_until=isoformat(sent.reply_until),
        sent_to=[DispatchSentTo(contact_id=m.contact_id, phone=m.to_phone, text=m.body) for m in outbound])),
        status=201)
