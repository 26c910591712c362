"""A browser a contact allowed to show alarm alerts (the welcome page's "Also alert me on this device")."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from urllib.parse import urlsplit

from gateway import codes
from gateway.clock import Clock
from gateway.daemon.metrics import Metrics
from gateway.errors import ValidationFailed
from gateway.model import Contact, LogEntry
from gateway.stores import Store

MAX_ENDPOINT = 1024


def _key(text: str, size: int, field: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size or (size == 65 and raw[0] != 4):
        raise ValidationFailed(f"{field} is not the browser's key (base64url, {size} bytes).", field=field)
    return text


def _endpoint(endpoint: str) -> str:
    url = urlsplit(endpoint)
    local = False
    try:
        local = ipaddress.ip_address(url.hostname or "").is_loopback
    except ValueError:
        local = url.hostname == "localhost"
    if len(endpoint) > MAX_ENDPOINT or not url.hostname or not (url.scheme == "https" or (url.scheme == "http"
                                                                                           and local)):
        raise ValidationFailed("endpoint is not a push service's https:// URL.", field="endpoint")
    return endpoint


class PushSubscriptions:
    def __init__(self, store: Store, clock: Clock, metrics: Metrics) -> None:
        self.store, self.clock, self.metrics = store, clock, metrics

    async def subscribe(self, contact: Contact, endpoint: str, p256dh: str, auth: str, trace_id: str | None) -> None:
        """Keep the subscription for ``contact`` (422 naming the field when it is not one a browser gives)."""
        endpoint = _endpoint(endpoint)
        p256dh, auth = _key(p256dh, 65, "keys.p256dh"), _key(auth, 16, "keys.auth")
        now = self.clock.now()
        await self.store.save_push_subscription(contact.id, endpoint, p256dh, auth, now)
        host = urlsplit(endpoint).netloc
        entry = LogEntry(code=codes.PUSH_SUBSCRIBED, at=now, site_id=contact.site_id, contact_id=contact.id,
                         comment=f"{contact.name} allowed alarm alerts in a browser (push service {host})",
                         details={"push_service": host}, trace_id=trace_id)
        await self.store.log([entry])
        self.metrics.logged([entry])
