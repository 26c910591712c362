"""Outbox and carrier health: what is queued and how old, failures by error code in the last hour."""

from __future__ import annotations

from aiohttp import web

from gateway.services.outbox_health import outbox_health
from gateway.web.appkeys import CANARY, CLOCK, SENDER, STORE
from gateway.web.console.shell import ago, e, live, page, table

routes = web.RouteTableDef()


def _up(ok: bool) -> str:
    return '<span class="chip green">up</span>' if ok else '<span class="chip red">DOWN</span>'


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    app = request.config_dict
    h = await outbox_health(app[STORE], app.get(SENDER), app[CLOCK], app.get(CANARY))
    oldest = table(["Kind", "Oldest queued for"], [[e(k), e(ago(s))] for k, s in sorted(h.oldest_seconds.items())],
                   "Queued messages by kind") if h.oldest_seconds else '<p class="muted">Nothing is queued.</p>'
    failures = table(["Error", "Texts", "What it means", "What to do"],
                     [[e(f"{i.code} {i.title}" if i.code else i.title), str(n), e(i.meaning), e(i.advice)]
                      for i, n in h.failures], "Failed texts by error code") if h.failures \
        else '<p class="muted">No text failed in the last hour.</p>'
    canary = e(h.canary) if h.canary else "not configured"
    html = (f'<div class="card"><p>Store {_up(h.store_up)} · sender {_up(h.sender_up)}</p>'
            f"<p>Outbox depth: <strong>{h.depth}</strong> queued or sending</p><p>Canary: {canary}</p></div>"
            f"<h2>Oldest queued</h2>{oldest}<h2>Failures in the last hour</h2>{failures}")
    part = live("health", html, "Outbox health")
    return page(request, "Outbox and carrier health", part, current="health", parts={"health": part})
