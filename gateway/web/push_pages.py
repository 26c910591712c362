"""Web Push's HTTP side: the VAPID public key, the two scripts, and the welcome page's subscription POST.

``POST /welcome/{token}/push`` takes the browser's ``PushSubscription`` as JSON. The welcome token in the
path is the credential, as for the page's Confirm button; the JSON content type (which a cross-site form
cannot send without a preflight) and the Origin check keep another site from posting one.
"""

from __future__ import annotations

from importlib import resources
from urllib.parse import urlsplit

import msgspec
from aiohttp import web

from gateway.errors import Forbidden, NotFound
from gateway.web.appkeys import CONFIG, PUSH, PUSH_SUBSCRIPTIONS, TRACE_ID, WELCOME
from gateway.web.bodies import decode_json

routes = web.RouteTableDef()
_STATIC = resources.files("gateway.web").joinpath("static")
WORKER = _STATIC.joinpath("push-sw.js").read_text()
SUBSCRIBE = _STATIC.joinpath("push-subscribe.js").read_text()


class Keys(msgspec.Struct):
    p256dh: str
    auth: str


class Subscription(msgspec.Struct):
    """A browser's ``PushSubscription.toJSON()``."""

    endpoint: str
    keys: Keys
    expirationTime: float | None = None  # noqa: N815 (the browser's name)


def _script(text: str, **headers: str) -> web.Response:
    return web.Response(text=text, content_type="application/javascript", charset="utf-8",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", **headers})


@routes.get("/push/vapid-public-key")
async def vapid_public_key(request: web.Request) -> web.Response:
    push = request.app.get(PUSH)
    if push is None:
        raise NotFound("Push alerts are not set up on this gateway (push.backend: none).")
    return web.json_response({"public_key": push.public_key})


@routes.get("/push/sw.js")
async def worker(request: web.Request) -> web.Response:
    return _script(WORKER)


@routes.get("/push/subscribe.js")
async def subscribe_script(request: web.Request) -> web.Response:
    return _script(SUBSCRIBE)


@routes.post("/welcome/{token}/push")
async def subscribe(request: web.Request) -> web.Response:
    if request.app.get(PUSH) is None:
        raise NotFound("Push alerts are not set up on this gateway (push.backend: none).")
    public = urlsplit(request.app[CONFIG].http.public_url)
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{public.scheme}://{public.netloc}":
        raise Forbidden("A subscription is taken from the gateway's own welcome page only.")
    found = await request.app[WELCOME].find(request.match_info["token"])
    if found is None:
        raise NotFound("This link is not valid.")
    body = await decode_json(request, Subscription)
    _, contact, _ = found
    await request.app[PUSH_SUBSCRIPTIONS].subscribe(contact, body.endpoint, body.keys.p256dh, body.keys.auth,
                                                    request[TRACE_ID])
    return web.json_response({"subscribed": True}, status=201)
