"""Receiving one text: gather what the store knows, let the pipeline decide, commit, answer.

A text recovered from the carrier after the gateway missed it (gateway/loops/recovery.py) takes the same
way, decided as of now; having no webhook to answer, its replies wait in the outbox. The canary's own text
(gateway/loops/canary.py) is recorded and handed to the canary: it never reaches the pipeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from gateway.auth.admission import CheckAdmission
from gateway.clock import Clock
from gateway.config import CredentialChecks, Interface, Verifications
from gateway.errors import ChecksShed, InvalidPhoneNumber, StaleDecision, ValidationFailed
from gateway.auth.hashes import verify_secret_async
from gateway.core.canary import canary_token
from gateway.core.keywords import KeywordTable
from gateway.services.ordering import KeyedLocks, phone_key
from gateway.daemon.metrics import Metrics
from gateway.model import PRIORITY_REPLY, Contact, Decision, InboundMessage, InterfaceState, OutboundMessage
from gateway.core.phone import to_e164
from gateway.core.pin import PinCheck, masked, split_pin
from gateway.core.interface import Access
from gateway.core.interface.auth import event_sites
from gateway.core.interface.shown import hidden_codes
from gateway.core.pipeline import Sender, Text, decide_inbound
from gateway.stores import Store

if TYPE_CHECKING:
    from gateway.loops.canary import CanaryWatch

log = logging.getLogger(__name__)

MAX_BODY_CHARS = 1600  # Twilio's own cap on a concatenated message
STALE_RETRIES = 3


class InboundResult(msgspec.Struct, frozen=True):
    message_id: str
    replies: list[str]
    duplicate: bool = False


class InboundService:
    def __init__(self, store: Store, table: Callable[[], KeywordTable], clock: Clock, metrics: Metrics,
                 default_region: str, interface: Interface, verifications: Verifications,
                 locks: KeyedLocks | None = None, checks: CheckAdmission | None = None,
                 canary: CanaryWatch | None = None) -> None:
        self.store = store
        self.table = table
        self.clock = clock
        self.metrics = metrics
        self.default_region = default_region
        self.interface = interface
        self.verifications = verifications
        self.locks = locks or KeyedLocks(across=store.turns)
        self.checks = checks or CheckAdmission(CredentialChecks(), clock, metrics)
        self.canary = canary

    def normalize(self, phone: str) -> str:
        try:
            return to_e164(phone, self.default_region)
        except InvalidPhoneNumber as exc:
            raise ValidationFailed(exc.message, field="from") from None

    async def recover(self, missed: InboundMessage) -> InboundResult:
        """Run a text the carrier took while the gateway could not (``received_at``: the carrier's time). Its
        rows say it came late; its replies are queued in the outbox, as there is no webhook to answer."""
        return await self.receive(carrier=missed.carrier, carrier_message_id=missed.carrier_message_id,
                                  from_phone=missed.from_phone, to_phone=missed.to_phone, body=missed.body,
                                  carrier_received_at=missed.received_at)

    async def receive(self, *, carrier: str, carrier_message_id: str, from_phone: str, to_phone: str, body: str,
                      trace_id: str | None = None, may_reply: bool = True,
                      carrier_received_at: datetime | None = None) -> InboundResult:
        """Decide on and durably record one text; the replies to send back inline.

        ``may_reply=False`` (the text opted the number out) records no reply, since none can be sent.
        """
        sender_phone = self.normalize(from_phone)
        body = body[:MAX_BODY_CHARS]
        words, pin = split_pin(body)
        msg = InboundMessage(carrier=carrier, carrier_message_id=carrier_message_id, from_phone=sender_phone,
                             to_phone=to_phone, body=masked(body, pin), received_at=self.clock.now(),
                             carrier_received_at=carrier_received_at)
        token = canary_token(body)
        if token is not None:
            return await self._canary(msg, token)
        async with self.locks.hold([phone_key(sender_phone)]):
            for attempt in range(STALE_RETRIES):
                sender = await self._sender(sender_phone, words, carrier_received_at)
                try:
                    decision, result = await self._decide(msg, words, pin, sender, trace_id, may_reply)
                    break
                except StaleDecision as exc:  # another number answered (or it expired) meanwhile: decide again
                    if attempt == STALE_RETRIES - 1:
                        raise
                    log.info("inbound %s: %s; deciding again", carrier_message_id, exc.message)
        if result.duplicate:
            self.metrics.inbound.labels(carrier, "duplicate").inc()
            log.info("trace=%s inbound %s from %s: duplicate, ignored", trace_id, carrier_message_id, sender_phone)
            return InboundResult(carrier_message_id, [], duplicate=True)
        self.metrics.inbound.labels(carrier, decision.log[0].code if decision.log else "none").inc()
        self.metrics.logged(decision.log)
        self.metrics.answered(decision.responses, [v for v, _ in sender.open])
        # The event log records every text; a line per text at INFO cost ~8% of the daemon's time under load
        # (bench/README.md), so only a late text (recovered from the carrier) is worth one.
        if carrier_received_at is not None:
            log.info("trace=%s inbound %s from %s: %s (late: the carrier took it at %s UTC)", trace_id,
                     carrier_message_id, sender_phone, ",".join(e.code for e in decision.log),
                     f"{carrier_received_at:%H:%M:%S}")
        elif log.isEnabledFor(logging.DEBUG):
            log.debug("trace=%s inbound %s from %s: %s", trace_id, carrier_message_id, sender_phone,
                      ",".join(e.code for e in decision.log))
        return InboundResult(carrier_message_id, decision.replies)

    async def _canary(self, msg: InboundMessage, token: str) -> InboundResult:
        """The canary's text back: recorded (a carrier's retry is seen as one), never decided on, never answered."""
        if (await self.store.commit(Decision(inbound=msg))).duplicate:
            return InboundResult(msg.carrier_message_id, [], duplicate=True)
        self.metrics.inbound.labels(msg.carrier, "canary").inc()
        if self.canary is None or not self.canary.came_back(token):
            log.info("inbound %s from %s: a canary text this gateway does not wait for", msg.carrier_message_id,
                     msg.from_phone)
        return InboundResult(msg.carrier_message_id, [])

    async def _decide(self, msg: InboundMessage, words: str, pin: str | None, sender: Sender, trace_id: str | None,
                      may_reply: bool):
        msg = msgspec.structs.replace(msg, received_at=self.clock.now())  # decided as of now, after the view
        check = await self._check_pin(msg.from_phone, sender.access, pin)
        decision = decide_inbound(msg, sender, Text(words=words, stored=msg.body, pin=check),
                                  self.table(), self.interface, self.verifications, trace_id=trace_id)
        if not may_reply:
            decision.replies.clear()
        if msg.carrier_received_at is not None:  # no webhook waits for these: they go out through the outbox
            decision.outbound.extend(OutboundMessage(to_phone=msg.from_phone, from_phone=msg.to_phone, body=reply,
                                                     kind="reply", priority=PRIORITY_REPLY)
                                     for reply in decision.replies)
            decision.replies.clear()
            # Recorded as received when the carrier took it: recovery asks the carrier from the newest text on.
            decision.inbound = msgspec.structs.replace(msg, received_at=msg.carrier_received_at)
        return decision, await self.store.commit(decision)

    async def _sender(self, phone: str, words: str, sent_at: datetime | None) -> Sender:
        """What the store knows of ``phone``; for a text recovered late (``sent_at``: the carrier's time) also
        the verifications it could have answered then."""
        now = self.clock.now()
        view = await self.store.inbound_view(phone, now)
        if not view.contacts:
            return Sender(access=Access(state=view.state))
        return Sender(contacts=view.contacts, open=view.open,
                      sites=view.sites, alarms=view.alarms, refs=view.refs, dispatches=view.dispatches,
                      access=await self._access(view.contacts, view.state, words, now),
                      open_when_sent=await self.store.verifications_open_at(phone, sent_at) if sent_at else ())

    async def _access(self, contacts: list[Contact], state: InterfaceState | None, words: str,
                      now: datetime) -> Access:
        """The contact the SMS interface answers to for this number: a group contact first, then a site
        contact, in either case one with a PIN set; and the sites it may act on."""
        with_pin = sorted((c for c in contacts if c.pin_hash), key=lambda c: (c.group_id is None, c.id))
        if not with_pin:
            return Access(state=state)
        contact = with_pin[0]
        if contact.group_id:
            sites = await self.store.group_sites(contact.group_id)
        else:
            site = await self.store.get_site(contact.site_id)
            sites = [site] if site else []
        access = Access(contact=contact, sites=sites, state=state)
        wanted = event_sites(words, access, now)
        if not wanted:
            return access
        hidden = hidden_codes(self.interface)
        events = {site_id: await self.store.recent_events(site_id, self.interface.max_events, hidden)
                  for site_id in wanted}
        return Access(contact=contact, sites=sites, state=state, events=events)

    async def _check_pin(self, phone: str, access: Access, pin: str | None) -> PinCheck:
        """Check a PIN against the contact's PIN and duress PIN: always two argon2 checks, so a wrong PIN,
        a contact without PIN and an unknown number all cost the same time. Nothing is checked in a lockout,
        nor when too many checks come at once (SHED; a contact's go before strangers', gateway/auth/admission.py)."""
        if pin is None:
            return PinCheck.ABSENT
        state = access.state
        if state and state.locked_until and state.locked_until > self.clock.now():
            return PinCheck.ABSENT
        contact = access.contact
        try:
            async with self.checks.turn("pin", f"phone:{phone}", known=contact is not None, checks=2):
                real, duress = await asyncio.gather(
                    verify_secret_async(contact.pin_hash if contact else None, pin),
                    verify_secret_async(contact.duress_pin_hash if contact else None, pin))
        except ChecksShed:
            return PinCheck.SHED
        if real:
            return PinCheck.VALID
        if duress:
            return PinCheck.DURESS
        return PinCheck.WRONG if contact else PinCheck.UNCHECKED
