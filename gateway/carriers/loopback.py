"""The loopback carrier: a real backend whose "network" is a table of what it sent.

Texts come in through ``POST /carriers/loopback/inbound`` (what ``gateway chat``, the tests
and the benchmarks use) and replies go back in the JSON answer, as Twilio's would in TwiML.
Outbox sends are recorded durably and read back through ``GET /carriers/loopback/outbox``.
Like Django's locmem mail backend: the fake ships in the package, and tests look at what it holds.
A text posted with ``"missed": true`` is kept on the carrier's side and not delivered, as if the gateway
had been down; recovery (gateway/loops/recovery.py) reads it back. A text the gateway sends to one of its own
numbers comes back in as an inbound text, as on a real network: the canary's way round.
Twilio's test numbers (``TEST_NUMBERS``) are refused with the error Twilio's test credentials give
them, so a send error can be tried (in the console, say) without a carrier account.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
from datetime import datetime

import msgspec
from aiohttp import web

from gateway.carriers.base import Carrier
from gateway.carriers import loopback_calls
from gateway.clock import isoformat
from gateway.core.carrier_errors import explain
from gateway.core.pin import masked
from gateway.errors import CarrierError, ValidationFailed
from gateway.model import InboundMessage
from gateway.stores import OutboxItem
from gateway.web.appkeys import TRACE_ID
from gateway.web.bodies import decode_json, query_int, respond

log = logging.getLogger(__name__)
# Twilio's documented "magic" To numbers and the error each answers with test credentials.
TEST_NUMBERS = {"+15005550001": "21211", "+15005550002": "21612", "+15005550003": "21408",
                "+15005550004": "21610", "+15005550009": "21614"}


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
    missed: bool = False  # kept by the carrier, not delivered: what a webhook lost while the gateway was down


class LoopbackCarrier(Carrier):
    name = "loopback"
    places_calls = True
    recovery_limit = 1000  # texts per number and recovery pass

    async def start(self) -> None:
        warning = exposure(self.services.config)
        if warning:
            log.warning("%s", warning)

    async def send(self, item: OutboxItem) -> str:
        if self.services.config.carrier.loopback_latency_seconds:
            await asyncio.sleep(self.services.config.carrier.loopback_latency_seconds)
        code = TEST_NUMBERS.get(item.to_phone)
        if code is not None:
            raise CarrierError(f"loopback refused {item.to_phone} (a Twilio test number) with error {code}: "
                               f"{explain(code).title}", retryable=False, code=code)
        row_id = await self.services.store.record_loopback(item, self.services.clock.now())
        if item.to_phone in self.services.config.own_numbers and item.channel == "sms":
            await self._loop_back(item, row_id)
        return f"LB{row_id:010d}"

    async def _loop_back(self, item: OutboxItem, row_id: int) -> None:
        try:
            await self.services.inbound.receive(
                carrier=self.name, carrier_message_id=f"LBIN{row_id:010d}", to_phone=item.to_phone, body=item.body,
                from_phone=item.from_phone or self.services.config.carrier.from_number)
        except Exception:  # the send itself went through: what the gateway does with its inbound is another matter
            log.exception("loopback: the text to our own number %s did not come back in", item.to_phone)

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/inbound", self.inbound), web.get("/outbox", self.outbox),
                web.post("/calls/{call_id}", self.answer_call)]

    def max_per_second(self, sender: str) -> float | None:
        return self.services.config.carrier.loopback.max_per_second

    def recover_inbound_minutes(self) -> int:
        return self.services.config.carrier.loopback.recover_inbound_minutes

    async def missed_inbound(self, to_phone: str, since: datetime) -> list[InboundMessage]:
        return await self.services.store.loopback_inbound(to_phone, since, self.recovery_limit)

    async def inbound(self, request: web.Request) -> web.Response:
        payload = await decode_json(request, LoopbackInbound)
        if not payload.from_:
            raise ValidationFailed("'from' is required.", field="from")
        message_id = payload.message_id or "LBIN" + secrets.token_hex(8)
        to_phone = payload.to or self.services.config.carrier.from_number
        if payload.missed:
            # Kept in the gateway's own database, so masked like every stored body: a PIN in a missed text
            # is not recovered (Twilio's copy, on Twilio's side, keeps it).
            kept = await self.services.store.record_loopback_inbound(InboundMessage(
                carrier=self.name, carrier_message_id=message_id, from_phone=self.services.inbound.normalize(
                    payload.from_), to_phone=to_phone, body=masked(payload.body), received_at=self.services.clock.now()))
            return web.json_response({"message_id": message_id, "missed": True, "duplicate": not kept}, status=202)
        result = await self.services.inbound.receive(
            carrier=self.name, carrier_message_id=message_id, from_phone=payload.from_, to_phone=to_phone,
            body=payload.body, trace_id=request.get(TRACE_ID))
        return respond(result)  # {"message_id", "replies", "duplicate"}

    async def outbox(self, request: web.Request) -> web.Response:
        to = request.query.get("to") or None
        if to:
            to = self.services.inbound.normalize(to)
        rows = await self.services.store.loopback_messages(
            to_phone=to, after=query_int(request, "after", 0, minimum=0),
            limit=query_int(request, "limit", 100, minimum=1, maximum=1000))
        messages = [{"id": r["id"], "outbound_id": r["outbound_id"], "to": r["to_phone"], "from": r["from_phone"],
                     "body": r["body"], "kind": r["kind"], "sent_at": isoformat(r["sent_at"])} for r in rows]
        return web.json_response({"messages": messages, "next_after": messages[-1]["id"] if messages else None})

    @loopback_calls.DOCUMENTED
    async def answer_call(self, request: web.Request) -> web.Response:
        return await loopback_calls.answer_loopback_call(self.services, request)
