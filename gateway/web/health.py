"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.web.appkeys import METRICS, SENDER, STORE

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """200 when the store answers and the sender loop runs; 503 otherwise."""
    checks = {"store": False, "sender": bool(request.app.get(SENDER) and request.app[SENDER].running)}
    try:
        checks["store"] = await request.app[STORE].ping()
    except Exception:
        checks["store"] = False
    ready = all(checks.values())
    return web.json_response({"status": "ready" if ready else "not ready", "checks": checks},
                             status=200 if ready else 503)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    registry = request.app[METRICS].registry
    try:
        request.app[METRICS].outbox_depth.set(await request.app[STORE].outbox_depth())
    except Exception:
        pass  # the scrape still answers; readyz reports the store
    response = web.Response(body=generate_latest(registry))
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response
