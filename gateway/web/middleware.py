"""Request middlewares: trace ids, the one error shape, latency metrics."""

from __future__ import annotations

import logging
import os
import re
import time

from aiohttp import web

from gateway.errors import MethodNotAllowed, NotFound, Refused, internal_error, problem
from gateway.web.appkeys import METRICS, TRACE_ID
from gateway.web.bodies import too_large

log = logging.getLogger("gateway.http")
TRACE_HEADER = "x-partner-trace-id"
_TRACE_OK = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def _problem(refusal: Refused) -> web.Response:
    status, body = problem(refusal)
    return web.json_response(body, status=status, headers=refusal.headers)


@web.middleware
async def trace_and_errors(request: web.Request, handler) -> web.StreamResponse:
    """Echo (or mint) the trace id, turn every failure into the one error shape, time the request."""
    supplied = request.headers.get(TRACE_HEADER, "")
    # 32 hex digits as uuid4().hex, at a fifth of its cost
    trace_id = supplied if _TRACE_OK.fullmatch(supplied) else os.urandom(16).hex()
    request[TRACE_ID] = trace_id
    started = time.perf_counter()
    try:
        response = await handler(request)
    except Refused as exc:
        response = _problem(exc)
    except web.HTTPRequestEntityTooLarge:
        response = _problem(too_large(request))
    except web.HTTPException as exc:
        if exc.status == 404:
            response = _problem(NotFound(f"No route {request.method} {request.path}."))
        elif exc.status == 405:
            response = _problem(MethodNotAllowed(f"{request.method} is not allowed here.",
                                                 allow=exc.headers.get("Allow", "")))
        else:
            raise
    except Exception:
        log.exception("trace=%s %s %s failed", trace_id, request.method, request.path)
        status, body = internal_error(trace_id)
        response = web.json_response(body, status=status)
    response.headers[TRACE_HEADER] = trace_id
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    request.app[METRICS].http_latency.labels(route, str(response.status)).observe(time.perf_counter() - started)
    return response
