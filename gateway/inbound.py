"""Receiving one text: gather what the store knows, let the pipeline decide, commit, answer."""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec

from gateway.clock import Clock
from gateway.errors import InvalidPhoneNumber, ValidationFailed
from gateway.hashes import verify_secret_async
from gateway.keywords import KeywordTable
from gateway.metrics import Metrics
from gateway.model import InboundMessage
from gateway.phone import to_e164
from gateway.pin import PinCheck, masked, split_pin
from gateway.pipeline import Sender, Text, decide_inbound
from gateway.stores import Store

log = logging.getLogger(__name__)

MAX_BODY_CHARS = 1600  # Twilio's own cap on a concatenated message


class InboundResult(msgspec.Struct, frozen=True):
    message_id: str
    replies: list[str]
    duplicate: bool = False


class InboundService:
    def __init__(self, store: Store, table: Callable[[], KeywordTable], clock: Clock, metrics: Metrics,
                 default_region: str) -> None:
        self.store = store
        self.table = table
        self.clock = clock
        self.metrics = metrics
        self.default_region = default_region

    def normalize(self, phone: str) -> str:
        try:
            return to_e164(phone, self.default_region)
        except InvalidPhoneNumber as exc:
            raise ValidationFailed(exc.message, field="from") from None

    async def receive(self, *, carrier: str, carrier_message_id: str, from_phone: str, to_phone: str, body: str,
                      trace_id: str | None = None) -> InboundResult:
        """Decide on and durably record one text; the replies to send back inline."""
        sender_phone = self.normalize(from_phone)
        body = body[:MAX_BODY_CHARS]
        words, pin = split_pin(body)
        msg = InboundMessage(carrier=carrier, carrier_message_id=carrier_message_id, from_phone=sender_phone,
                             to_phone=to_phone, body=masked(body), received_at=self.clock.now())
        sender = await self._sender(sender_phone)
        check = await self._check_pin(sender, pin)
        decision = decide_inbound(msg, sender, Text(words=words, stored=msg.body, pin=check),
                                  self.table(), trace_id=trace_id)
        result = await self.store.commit(decision)
        if result.duplicate:
            self.metrics.inbound.labels(carrier, "duplicate").inc()
            log.info("inbound %s from %s: duplicate, ignored", carrier_message_id, sender_phone)
            return InboundResult(carrier_message_id, [], duplicate=True)
        self.metrics.inbound.labels(carrier, decision.log[0].code if decision.log else "none").inc()
        self.metrics.logged(decision.log)
        for response in decision.responses:
            self.metrics.verifications.labels(response.response).inc()
            opened = next((v for v, _ in sender.open if v.id == response.verification_id), None)
            if opened is not None:
                self.metrics.time_to_response.observe((response.at - opened.created_at).total_seconds())
        log.info("inbound %s from %s: %s", carrier_message_id, sender_phone, ",".join(e.code for e in decision.log))
        return InboundResult(carrier_message_id, decision.replies)

    async def _sender(self, phone: str) -> Sender:
        contacts = await self.store.contacts_by_phone(phone)
        if not contacts:
            return Sender()
        open_ = await self.store.open_verifications(phone, self.clock.now())
        sites, alarms = {}, {}
        if open_:
            newest = open_[0][0]
            sites[newest.site_id] = await self.store.get_site(newest.site_id)
            if newest.event_id:
                alarm = await self.store.get_alarm_event(newest.event_id)
                if alarm:
                    alarms[alarm.id] = alarm
        return Sender(contacts=contacts, open=open_, sites=sites, alarms=alarms)

    async def _check_pin(self, sender: Sender, pin: str | None) -> PinCheck:
        if pin is None:
            return PinCheck.ABSENT
        hashes = [c.pin_hash for c in sender.contacts if c.pin_hash]
        if not hashes:
            return PinCheck.UNCHECKED
        for hash_ in hashes:
            if await verify_secret_async(hash_, pin):
                return PinCheck.VALID
        return PinCheck.WRONG
