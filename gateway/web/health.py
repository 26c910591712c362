"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.daemon import readiness
from gateway.web.appkeys import CANARY, CLOCK, METRICS, SENDER, STOPPING, STORE

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """200 when the store answers and the sender loop runs; 503 otherwise. ``detail`` is ``degraded`` while
    the last canary did not come back: the gateway still serves, so the status stays; ``stopping`` (503) during
    the stop grace after SIGTERM, while it still serves what a load balancer sends before it notices."""
    checks = await readiness.checks(request.app[STORE], request.app.get(SENDER))
    stopping = STOPPING in request.app and request.app[STOPPING].is_set()
    ready = all(checks.values()) and not stopping
    body = {"status": "ready" if ready else "not ready", "detail": "stopping" if stopping else "ok", "checks": checks}
    canary = request.app.get(CANARY)
    if canary is not None:
        body["canary"] = canary.state()
        if canary.degraded and not stopping:
            body["detail"] = "degraded"
    return web.json_response(body, status=200 if ready else 503)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    app = request.app
    await readiness.refresh(app[METRICS], app[STORE], app.get(SENDER), app[CLOCK])
    response = web.Response(body=generate_latest(app[METRICS].registry))
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response
