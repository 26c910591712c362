"""The push sender: a verification as a Web Push message to each browser its contact subscribed.

The payload (JSON: title, body, the one-time confirm and cancel links of gateway/services/responses.py)
is encrypted for the subscription's keys (RFC 8291, aes128gcm, through http_ece) and posted to its
endpoint with a VAPID JWT (RFC 8292, through py_vapid), ``TTL`` the seconds the verification has left
and ``Urgency: high`` for an urgent process. A push service's 404 or 410 means the browser dropped the
subscription: it is removed and logged (``PUSHGONE``). A 429, a 5xx or no answer is retried by the
outbox, like a carrier's; any other refusal is final.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp
import http_ece
import msgspec
from cryptography.hazmat.primitives.asymmetric import ec

from gateway import codes
from gateway.clock import Clock
from gateway.config import Config
from gateway.core.keywords import KeywordTable
from gateway.daemon.metrics import Metrics
from gateway.errors import CarrierError
from gateway.model import LogEntry
from gateway.push.vapid import JWT_HOURS, key_path, load_key, public_key
from gateway.services.responses import response_link
from gateway.stores import OutboxItem, Store

log = logging.getLogger(__name__)
GONE = (404, 410)
DEFAULT_TTL_SECONDS = 300  # for a message with no validity of its own


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class WebPush:
    name = "push"

    def __init__(self, config: Config, store: Store, clock: Clock, table: Callable[[], KeywordTable],
                 metrics: Metrics) -> None:
        self.config, self.store, self.clock, self.table, self.metrics = config, store, clock, table, metrics
        self.vapid = None
        self.http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Read the VAPID key, or make it on first start; ConfigurationError naming the file when that fails."""
        self.vapid = load_key(key_path(self.config), create=True)
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.push.request_timeout_seconds))

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()
            self.http = None

    @property
    def public_key(self) -> str:
        """The VAPID public key, as the browser's ``applicationServerKey`` takes it."""
        assert self.vapid is not None, "push not started"
        return public_key(self.vapid)

    async def send(self, item: OutboxItem) -> str:
        subscriptions = await self.store.push_subscriptions(item.contact_id) if item.contact_id else []
        if not subscriptions:
            raise CarrierError("No browser of this contact is subscribed to push alerts.", retryable=False,
                               code="no-subscription")
        payload = msgspec.json.encode(await self._payload(item))
        headers = {"TTL": str(self._ttl(item)), "Urgency": await self._urgency(item),
                   "Content-Encoding": "aes128gcm", "Content-Type": "application/octet-stream"}
        accepted, retry, refused = [], [], []
        for sub in subscriptions:
            status, where = await self._post(sub, payload, headers)
            if status in (200, 201, 202):
                accepted.append(where or sub["endpoint"])
            elif status in GONE:
                await self._gone(item, sub, status)
            elif status is None or status == 429 or status >= 500:
                retry.append(status)
            else:
                refused.append(status)
        if accepted:
            return accepted[0][:200]
        if retry:
            raise CarrierError(f"The push service did not take the alert ({retry[0] or 'no answer'}).",
                               retryable=True, code=str(retry[0] or "timeout"))
        if refused:
            raise CarrierError(f"The push service refused the alert ({refused[0]}).", retryable=False,
                               code=str(refused[0]))
        raise CarrierError("Every browser subscription of this contact is gone.", retryable=False, code="410")

    async def _payload(self, item: OutboxItem) -> dict:
        link = await response_link(self.store, self.config.http.public_url, item)
        body = {"title": f"Alarm verification - {self.table().central_station}", "body": item.body,
                "tag": item.verification_id or f"outbox-{item.id}"}
        if link:
            body |= {"open": link, "links": {"confirm": f"{link}/confirm", "cancel": f"{link}/cancel"}}
        return body

    def _ttl(self, item: OutboxItem) -> int:
        if item.expires_at is None:
            return DEFAULT_TTL_SECONDS
        return max(0, int((item.expires_at - self.clock.now()).total_seconds()))

    async def _urgency(self, item: OutboxItem) -> str:
        verification = await self.store.get_verification(item.verification_id) if item.verification_id else None
        process = self.table().process(verification.process) if verification else None
        # ``urgent`` is the process's (keywords.yaml, the call-list work); a process says nothing: urgent
        return "high" if getattr(process, "urgent", True) else "normal"

    async def _post(self, sub: dict, payload: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        assert self.http is not None and self.vapid is not None, "push not started"
        endpoint = sub["endpoint"]
        url = urlsplit(endpoint)
        claims = {"aud": f"{url.scheme}://{url.netloc}", "sub": self.config.push.subject,
                  "exp": int(self.clock.now().timestamp()) + JWT_HOURS * 3600}
        server_key = ec.generate_private_key(ec.SECP256R1())
        body = http_ece.encrypt(payload, salt=os.urandom(16), private_key=server_key, dh=_b64(sub["p256dh"]),
                                auth_secret=_b64(sub["auth"]), version="aes128gcm")
        try:
            async with self.http.post(endpoint, data=body, headers={**headers, **self.vapid.sign(claims)}) as resp:
                await resp.read()
                return resp.status, resp.headers.get("Location")
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            log.warning("push to %s: no answer (%s)", url.netloc, type(exc).__name__)
            return None, None

    async def _gone(self, item: OutboxItem, sub: dict, status: int) -> None:
        await self.store.delete_push_subscription(sub["endpoint"])
        host = urlsplit(sub["endpoint"]).netloc
        entry = LogEntry(
            code=codes.PUSH_GONE, at=self.clock.now(), site_id=item.site_id, contact_id=item.contact_id,
            verification_id=item.verification_id, comment=f"The push service ({host}) answered {status}: the "
            "browser's subscription is gone and was removed.", details={"status": status, "push_service": host})
        await self.store.log([entry])
        self.metrics.logged([entry])
        log.info("push: subscription of contact %s at %s gone (%d); removed", item.contact_id, host, status)
