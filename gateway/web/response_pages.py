"""The pages behind the links in verification emails: confirm or cancel an alarm with one click.

A GET shows what the click will do and a button; only the POST answers (mail scanners follow
links, they do not submit forms). Each token works once and dies with its verification; an
unknown, used or expired token gets the same page, which names nothing.
"""

from __future__ import annotations

import html

from aiohttp import web

from gateway.errors import StaleDecision
from gateway.auth.hashes import token_digest
from gateway.model import Decision, LogEntry
from gateway.core.pipeline import record_response
from gateway.web.appkeys import CLOCK, KEYWORDS, METRICS, STORE, TRACE_ID
from gateway.web.headers import page_headers

routes = web.RouteTableDef()
ACTIONS = {"confirm": ("confirm", "confirmed", "Confirm the alarm"), "cancel": ("cancel", "cancelled", "Cancel the alarm")}
STYLE = ("body{font:18px/1.4 system-ui,sans-serif;margin:2em auto;max-width:28em;padding:0 1em}"
         "button{font-size:1.1em;padding:.7em 1.4em;border-radius:.4em;border:0;background:#b00020;color:#fff}")
GONE = "This link is no longer valid: it was used already, or the alarm verification is over."


def page(title: str, body: str, status: int = 200) -> web.Response:
    return web.Response(status=status, content_type="text/html", headers=page_headers(STYLE), text=(
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style><h1>{html.escape(title)}</h1>{body}</html>"))


async def _usable(request: web.Request) -> tuple[dict, tuple[str, str, str]] | None:
    action = ACTIONS.get(request.match_info["action"])
    token = await request.app[STORE].response_token(token_digest(request.match_info["token"]))
    if action is None or token is None or token["used_at"] or token["verification_status"] in ("responded", "expired"):
        return None
    if token["expires_at"] <= request.app[CLOCK].now():
        return None
    return token, action


@routes.get("/v/{token}/{action}")
async def show(request: web.Request) -> web.Response:
    found = await _usable(request)
    if found is None:
        return page("Link not valid", f"<p>{GONE}</p>", status=404)
    token, (_, _, label) = found
    return page(label, f"<p>{html.escape(token['message'] or '')}</p>"
                       f"<form method=post><button type=submit>{html.escape(label)}</button></form>")


@routes.post("/v/{token}/{action}")
async def answer(request: web.Request) -> web.Response:
    found = await _usable(request)
    store, clock = request.app[STORE], request.app[CLOCK]
    if found is None or not await store.use_response_token(token_digest(request.match_info["token"]), clock.now()):
        return page("Link not valid", f"<p>{GONE}</p>", status=404)
    token, (outcome, response, _) = found
    verification = await store.get_verification(token["verification_id"])
    process = request.app[KEYWORDS]().process(verification.process)
    keyword = next((k for k in process.keywords if k.outcome == outcome), None) if process else None
    now = clock.now()
    decision = Decision(log=[LogEntry(
        code=keyword.code if keyword else (process.response_code if process else "SMSReply"), at=now,
        site_id=verification.site_id, contact_id=token["contact_id"], verification_id=verification.id,
        event_id=verification.event_id, comment=f"{response} by email link", trace_id=request[TRACE_ID],
        details={"outcome": outcome, "channel": "email"})])
    record_response(decision, verification, token["contact_id"], response, now)
    try:
        await store.commit(decision)
    except StaleDecision:  # answered by text (or expired) between the check above and now
        return page("Link not valid", f"<p>{GONE}</p>", status=404)
    request.app[METRICS].logged(decision.log)
    request.app[METRICS].verifications.labels(response).inc()
    return page(f"Alarm {response}", f"<p>Thank you. The central station has your answer: the alarm is "
                                      f"<strong>{response}</strong>.</p>")
