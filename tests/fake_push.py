"""A fake Web Push service on 127.0.0.1: it checks each message's VAPID JWT (RFC 8292) and decrypts its
payload (RFC 8291) with the subscription keys the test generated, as a browser's push service and the
browser would; it answers 201, or what the test scripted (410, 429, 500 ...)."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field

import http_ece
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from tests.helpers import serve_on_loopback


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """One subscribed browser: its keys (the test's own) and endpoint on the fake service."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def subscription(self) -> dict:
        """What ``PushSubscription.toJSON()`` gives the page."""
        public = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": b64(public),
                                                                           "auth": b64(self.auth)}}


@dataclass
class Pushed:
    browser: Browser
    headers: dict[str, str]
    claims: dict
    payload: dict


class FakePushService:
    def __init__(self, now) -> None:
        self.now = now  # the test clock's now(): JWT expiry is checked against it
        self.browsers: dict[str, Browser] = {}
        self.answers: list[int] = []  # scripted statuses for the next messages, then 201
        self.pushed: list[Pushed] = []
        self.refused: list[str] = []  # why a message was refused (a bad JWT, a payload that does not decrypt)
        self.url = ""

    async def __aenter__(self) -> FakePushService:
        app = web.Application()
        app.router.add_post("/push/{id}", self._push)
        self._runner, self.url = await serve_on_loopback(app)
        return self

    async def __aexit__(self, *exc) -> None:
        await self._runner.cleanup()

    def browser(self) -> Browser:
        browser = Browser(f"{self.url}/push/{b64(os.urandom(12))}")
        self.browsers[browser.endpoint] = browser
        return browser

    def _check_jwt(self, authorization: str) -> dict:
        assert Vapid02.verify(authorization), "VAPID signature does not verify"
        token = authorization.split("t=", 1)[1].split(",", 1)[0]
        claims = json.loads(unb64(token.split(".")[1]))
        assert claims["aud"] == self.url, f"aud {claims['aud']!r} is not this push service"
        assert claims["sub"].startswith(("mailto:", "https://")), claims["sub"]
        left = claims["exp"] - self.now().timestamp()
        assert 0 < left <= 24 * 3600, f"exp {left:.0f} s from now"
        return claims

    async def _push(self, request: web.Request) -> web.Response:
        endpoint = f"{self.url}/push/{request.match_info['id']}"
        browser = self.browsers.get(endpoint)
        if browser is None:
            return web.Response(status=404)
        body = await request.read()
        try:
            claims = self._check_jwt(request.headers.get("Authorization", ""))
            assert request.headers.get("Content-Encoding") == "aes128gcm"
            assert request.headers.get("TTL", "").isdigit(), "no TTL"
            payload = json.loads(http_ece.decrypt(body, private_key=browser.key, auth_secret=browser.auth,
                                                  version="aes128gcm"))
        except Exception as exc:  # what a push service says to a message it cannot take
            self.refused.append(repr(exc))
            return web.Response(status=400, text=repr(exc))
        status = self.answers.pop(0) if self.answers else 201
        if status == 201:
            self.pushed.append(Pushed(browser, dict(request.headers), claims, payload))
            return web.Response(status=201, headers={"Location": f"{self.url}/message/{len(self.pushed)}"})
        return web.Response(status=status)
