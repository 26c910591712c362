"""The /ext/v1 API for automation platforms: alarm events in, the event log out (bearer API key)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web

from gateway.clock import isoformat
from gateway.errors import UnknownSite
from gateway.stores import LogRow
from gateway.web.appkeys import ALARMS, API_KEYS, STORE, TRACE_ID
from gateway.web.bodies import decode_json, query_int
from gateway.web.views import contact_names, verification_json

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


async def require_key(request: web.Request) -> str:
    return await request.app[API_KEYS].authenticate(request.headers.get("Authorization"))


def log_row_json(row: LogRow) -> dict:
    return {"id": row.id, "at": isoformat(row.at), "code": row.code, "site_id": row.site_id,
            "contact_id": row.contact_id, "phone": row.phone, "verification_id": row.verification_id,
            "event_id": row.event_id, "comment": row.comment, "details": row.details, "trace_id": row.trace_id}


@routes.post("/ext/v1/events")
async def post_event(request: web.Request) -> web.Response:
    """Run the auto processes an alarm event triggers. 201 new, 200 when the event_id was seen before."""
    await require_key(request)
    body = await decode_json(request, AlarmEventIn)
    result = await request.app[ALARMS].receive(
        site_id=body.site_id, event_code=body.event_code, event_id=body.event_id,
        zone=None if body.zone is None else str(body.zone), text=body.text, trace_id=request[TRACE_ID])
    data = {"event_id": result.event_id, "site_id": body.site_id, "event_code": body.event_code.upper(),
            "duplicate": result.duplicate, "logged": result.codes,
            "verifications": [verification_json(v, await contact_names(request.app[STORE], v))
                                  for v in result.verifications]}
    return web.json_response({"data": data}, status=200 if result.duplicate else 201)


@routes.get("/ext/v1/event-log")
async def get_event_log(request: web.Request) -> web.Response:
    """Event-log rows oldest first; page with ``after`` = the previous page's ``next_after``."""
    await require_key(request)
    site_id = request.query.get("site_id") or None
    if site_id is not None and await request.app[STORE].get_site(site_id) is None:
        raise UnknownSite(f"No site {site_id!r}.", site_id=site_id)
    limit = query_int(request, "limit", 100, minimum=1, maximum=1000)
    rows = await request.app[STORE].event_log(site_id=site_id, after=query_int(request, "after", 0, minimum=0),
                                             limit=limit)
    return web.json_response({"data": [log_row_json(r) for r in rows],
                              "next_after": rows[-1].id if rows else None, "has_more": len(rows) == limit})
