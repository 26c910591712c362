"""The /ext/v1 API for automation platforms: alarm events in, the event log out (bearer API key)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from aiohttp import web

from gateway.clock import isoformat
from gateway.model import LogRow
from gateway.services.sites import find_site
from gateway.web.appkeys import ALARMS, API_KEYS, STORE, TRACE_ID
from gateway.web.bodies import decode_json, query_int, respond
from gateway.web.openapi import API_KEY, Param, Timestamp, operation
from gateway.web.views import VerificationOut, contact_names, verification_json

routes = web.RouteTableDef()

Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_]{1,16}$", description="Event code, e.g. BA")]
Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class AlarmEventIn(msgspec.Struct, forbid_unknown_fields=True):
    """An alarm event from the automation platform."""

    site_id: Ident
    event_code: Code
    event_id: Ident | None = None
    zone: Annotated[str, msgspec.Meta(max_length=32)] | int | None = None
    text: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class EventAccepted(msgspec.Struct, kw_only=True):
    event_id: str
    site_id: str
    event_code: str
    duplicate: bool
    logged: Annotated[list[str], msgspec.Meta(description="Event codes written to the event log")]
    verifications: list[VerificationOut]


class EventAcceptedBody(msgspec.Struct):
    data: EventAccepted


class EventLogRow(msgspec.Struct, kw_only=True):
    id: Annotated[int, msgspec.Meta(description="Cursor: pass the last one as `after` for the next page")]
    at: Timestamp
    code: str
    site_id: str | None
    contact_id: int | None
    phone: str | None
    verification_id: str | None
    event_id: str | None
    comment: str | None
    details: dict[str, Any] | None
    trace_id: str | None


class EventLogPage(msgspec.Struct, kw_only=True):
    data: list[EventLogRow]
    next_after: int | None
    has_more: bool


KEY_ERRORS = {401: "No or wrong API key", 429: "Too many key checks at once (code RATE_LIMITED, Retry-After)"}


async def require_key(request: web.Request) -> str:
    return await request.app[API_KEYS].authenticate(request.headers.get("Authorization"), request.remote)


def log_row_json(row: LogRow) -> EventLogRow:
    return EventLogRow(id=row.id, at=isoformat(row.at), code=row.code, site_id=row.site_id,
                       contact_id=row.contact_id, phone=row.phone, verification_id=row.verification_id,
                       event_id=row.event_id, comment=row.comment, details=row.details, trace_id=row.trace_id)


@routes.post("/ext/v1/events")
@operation(summary="Post an alarm event", tag="events", security=API_KEY, body=AlarmEventIn,
           responses={201: (EventAcceptedBody, "Recorded; the verifications its auto processes opened"),
                      200: (EventAcceptedBody, "This event_id was seen before: nothing sent (duplicate: true)")},
           errors={**KEY_ERRORS, 400: "Malformed JSON", 404: "No such site (code SITE_NOT_FOUND)",
                   413: "Body too large", 415: "Not application/json", 422: "Invalid field (details.field)"})
async def post_event(request: web.Request) -> web.Response:
    """Run the auto processes an alarm event triggers. 201 new, 200 when the event_id was seen before."""
    await require_key(request)
    body = await decode_json(request, AlarmEventIn)
    result = await request.app[ALARMS].receive(
        site_id=body.site_id, event_code=body.event_code, event_id=body.event_id,
        zone=None if body.zone is None else str(body.zone), text=body.text, trace_id=request[TRACE_ID])
    data = EventAccepted(event_id=result.event_id, site_id=body.site_id, event_code=body.event_code.upper(),
                         duplicate=result.duplicate, logged=result.codes,
                         verifications=[verification_json(v, await contact_names(request.app[STORE], v))
                                        for v in result.verifications])
    return respond(EventAcceptedBody(data), status=200 if result.duplicate else 201)


@routes.get("/ext/v1/event-log")
@operation(summary="Read the event log", tag="events", security=API_KEY,
           params=[Param("site_id", "query", Annotated[str, msgspec.Meta(max_length=64)],
                         "Only this site's rows; empty or absent: every site's"),
                   Param("after", "query", Annotated[int, msgspec.Meta(ge=0, le=2**62)],
                         "The previous page's next_after: the rows committed after that row "
                         "(on PostgreSQL their ids may come out of order; none is skipped)"),
                   Param("limit", "query", Annotated[int, msgspec.Meta(ge=1, le=1000)], "Rows per page (100)")],
           responses={200: (EventLogPage, "Rows oldest first")},
           errors={**KEY_ERRORS, 404: "No such site (code SITE_NOT_FOUND)", 422: "Invalid query parameter"})
async def get_event_log(request: web.Request) -> web.Response:
    """Event-log rows oldest first; page with ``after`` = the previous page's ``next_after``."""
    await require_key(request)
    site_id = request.query.get("site_id") or None
    if site_id is not None:
        await find_site(request.app[STORE], site_id)
    limit = query_int(request, "limit", 100, minimum=1, maximum=1000)
    rows = await request.app[STORE].event_log(site_id=site_id, after=query_int(request, "after", 0, minimum=0),
                                             limit=limit)
    return respond(EventLogPage(data=[log_row_json(r) for r in rows], next_after=rows[-1].id if rows else None,
                                has_more=len(rows) == limit))
