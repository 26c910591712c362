"""The loopback carrier: a real backend whose "network" is a table of what it sent.

Texts come in through ``POST /carriers/loopback/inbound`` (what ``gateway chat``, the tests
and the benchmarks use) and replies go back in the JSON answer, as Twilio's would in TwiML.
Outbox sends are recorded durably and read back through ``GET /carriers/loopback/outbox``.
Like Django's locmem mail backend: the fake ships in the package, and tests look at what it holds.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets

import msgspec
from aiohttp import web

from gateway.carriers.base import Carrier
from gateway.clock import isoformat
from gateway.errors import ValidationFailed
from gateway.stores import OutboxItem
from gateway.web.appkeys import TRACE_ID
from gateway.web.bodies import decode_json, query_int

log = logging.getLogger(__name__)


def exposure(config) -> str | None:
    """The warning for a loopback carrier listening beyond this machine; None when it does not."""
    host = config.http.host
    if config.carrier.backend != LoopbackCarrier.name or _is_loopback(host):
        return None
    return (f"SECURITY: carrier.backend is loopback and http.host is {host!r}, not a loopback address. "
            "POST /carriers/loopback/inbound and GET /carriers/loopback/outbox have NO authentication: anyone who "
            "reaches this port can text the gateway as any number (PINs and alarm answers included) and read every "
            "text it sends. Set http.host: 127.0.0.1, or use a real carrier.")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # another host name, or "" (every interface)
        return False


class LoopbackInbound(msgspec.Struct, forbid_unknown_fields=True):
    body: str
    to: str | None = None
    message_id: str | None = None
    from_: str = msgspec.field(name="from", default="")


class LoopbackCarrier(Carrier):
    name = "loopback"

    async def start(self) -> None:
        warning = exposure(self.services.config)
        if warning:
            log.warning("%s", warning)

    async def send(self, item: OutboxItem) -> str:
        if self.services.config.carrier.loopback_latency_seconds:
            await asyncio.sleep(self.services.config.carrier.loopback_latency_seconds)
        row_id = await self.services.store.record_loopback(item, self.services.clock.now())
        return f"LB{row_id:010d}"

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/inbound", self.inbound), web.get("/outbox", self.outbox)]

    async def inbound(self, request: web.Request) -> web.Response:
        payload = await decode_json(request, LoopbackInbound)
        if not payload.from_:
            raise ValidationFailed("'from' is required.", field="from")
        result = await self.services.inbound.receive(
            carrier=self.name,
            carrier_message_id=payload.message_id or "LBIN" + secrets.token_hex(8),
            from_phone=payload.from_,
            to_phone=payload.to or self.services.config.carrier.from_number,
            body=payload.body,
            trace_id=request.get(TRACE_ID),
        )
        return web.json_response({"message_id": result.message_id, "replies": result.replies,
                                  "duplicate": result.duplicate})

    async def outbox(self, request: web.Request) -> web.Response:
        to = request.query.get("to") or None
        if to:
            to = self.services.inbound.normalize(to)
        rows = await self.services.store.loopback_messages(
            to_phone=to, after=query_int(request, "after", 0, minimum=0),
            limit=query_int(request, "limit", 100, minimum=1, maximum=1000))
        messages = [{"id": r["id"], "outbound_id": r["outbound_id"], "to": r["to_phone"], "from": r["from_phone"],
                     "body": r["body"], "sent_at": isoformat(r["sent_at"])} for r in rows]
        return web.json_response({"messages": messages, "next_after": messages[-1]["id"] if messages else None})
