"""Web Push's HTTP side: the VAPID public key, the two scripts, and the welcome page's subscription POST.

``POST /welcome/{token}/push`` takes the browser's ``PushSubscription`` as JSON. Mounted only when
``push.backend`` is webpush. The welcome token in the path is the credential, as for the page's Confirm button;
the JSON content type (which a cross-site form cannot send without a preflight)
and the Origin check keep another site from posting one.
"""

from __future__ import annotations

from importlib import resources
from urllib.parse import urlsplit

import msgspec
from aiohttp import web

from gateway.errors import Forbidden, NotFound
from gateway.web.appkeys import CONFIG, PUSH, PUSH_SUBSCRIPTIONS, TRACE_ID, WELCOME
from gateway.web.bodies import decode_json
from gateway.web.openapi import Param, operation

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


class PublicKey(msgspec.Struct):
    public_key: str  # the uncompressed P-256 point, base64url: the browser's applicationServerKey


class Subscribed(msgspec.Struct):
    subscribed: bool


def _script(text: str, **headers: str) -> web.Response:
    return web.Response(text=text, content_type="application/javascript", charset="utf-8",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", **headers})


@routes.get("/push/vapid-public-key")
@operation(summary="The gateway's VAPID public key", tag="push", security=None,
           responses={200: (PublicKey, "For PushManager.subscribe({applicationServerKey})")},
           description="Only when push.backend is webpush (else the path does not exist).")
async def vapid_public_key(request: web.Request) -> web.Response:
    return web.json_response({"public_key": request.app[PUSH].public_key})


@routes.get("/push/sw.js")
async def worker(request: web.Request) -> web.Response:
    return _script(WORKER)


@routes.get("/push/subscribe.js")
async def subscribe_script(request: web.Request) -> web.Response:
    return _script(SUBSCRIBE)


@routes.post("/welcome/{token}/push")
@operation(summary="Keep a browser's push subscription for the welcome link's contact", tag="push", security=None,
           body=Subscription, params=[Param("token", "path", str, "The welcome link's token")],
           responses={201: (Subscribed, "Kept: this browser shows the contact's alarm alerts")},
           errors={400: "Malformed JSON", 403: "Posted from another origin than the gateway's",
                   404: "The welcome link is not valid", 413: "Body too large", 415: "Not application/json",
                   422: "Not a browser's subscription (details.field)"},
           description="Posted by the welcome page's push-subscribe.js; only when push.backend is webpush.")
async def subscribe(request: web.Request) -> web.Response:
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
