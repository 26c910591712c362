"""A verification call from the first word to the last, whichever carrier places it (Twilio, loopback).

The carrier asks what to say when the call is answered (``opening``), what a key pressed or a word spoken
means (``pressed``), and reports how the call ended (``ended``). A decisive answer is recorded as a text's
would be (gateway/services/answers.py: the keyword's event code); the call itself logs ``CALLANSWER``.
A call that ends without one (busy, no-answer, failed, canceled, an answering machine, nothing pressed) is
given up the way an undeliverable text is: the outbox row and the recipient failed with the reason, a
``CALLNOANS`` row, and the outbox's give-up hook, which is what an escalation to the next contact waits for.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway import codes
from gateway.clock import Clock
from gateway.config.channels import Voice
from gateway.core.autoprocess import alert_values
from gateway.core.keywords import KeywordTable
from gateway.core.pin import masked
from gateway.core.templates import render
from gateway.core.voice import SAYS, choice, choices, unanswered_reason
from gateway.daemon.metrics import Metrics
from gateway.model import DeliveryReport, LogEntry, Verification
from gateway.services.answers import Answers
from gateway.stores import OutboxItem, Store

log = logging.getLogger(__name__)
GOODBYE = "Goodbye."


@dataclass(frozen=True)
class CallScript:
    """What the call says next: ``say`` in order, then listen for a key or a word (``listen``) or hang up."""

    say: tuple[str, ...]
    listen: bool
    language: str
    voice: str

    @property
    def text(self) -> str:
        return " ".join(self.say)


class CallDesk:
    def __init__(self, store: Store, table: Callable[[], KeywordTable], clock: Clock, metrics: Metrics,
                 voice: Voice, already_answered: str) -> None:
        self.store, self.table, self.clock, self.metrics, self.voice = store, table, clock, metrics, voice
        self.already_answered = already_answered
        self.answers = Answers(store, table, clock, metrics)
        self.gave_up: Callable[[OutboxItem, str], Awaitable[None]] | None = None  # the outbox sender's

    async def opening(self, item: OutboxItem, *, answered_by: str | None = None) -> CallScript:
        """What the call says once it is answered; a machine (``answered_by`` machine_*, fax) gets a short
        message and the call counts as unanswered."""
        language = await self._language(item)
        if answered_by and (answered_by.startswith("machine") or answered_by == "fax"):
            verification = await self._verification(item)
            await self.ended(item, "machine")
            return self._script(language, await self._machine_message(verification), listen=False)
        return await self._question(item, language)

    async def pressed(self, item: OutboxItem, digits: str | None, speech: str | None, attempt: int) -> CallScript:
        """What the call says after ``digits`` were pressed or ``speech`` said (neither: nothing was, in time);
        ``attempt`` counts the times the question has been asked."""
        language = await self._language(item)
        verification = await self._verification(item)
        if verification is None or verification.status in ("responded", "expired"):
            await self.ended(item, "completed")
            return self._script(language, self._over(verification), GOODBYE, listen=False)
        process = self.table().process(verification.process)
        picked = choice(process, digits, speech)
        if picked.action == "answer":
            return await self._answer(item, verification, picked.keyword, language, digits or speech or "")
        if picked.action == "repeat":
            return await self._question(item, language)
        if attempt >= self.voice.max_repeats:
            await self.ended(item, "no-input")
            return self._script(language, GOODBYE, listen=False)
        sorry = "Sorry, that key does nothing." if digits else "Sorry, I did not get that."
        return self._script(language, sorry, item.body, choices(process), listen=True)

    async def ended(self, item: OutboxItem, result: str) -> None:
        """The call is over with ``result`` (Twilio's CallStatus, ``machine``, ``no-input``): unless it was
        settled already, settled now. ``completed`` settles as answered when the verification was answered."""
        if result == "completed":
            verification = await self._verification(item)
            if verification is not None and verification.status == "responded":
                await self._settle(item, "delivered", None, [])
                return
            result = "no-input"
        reason = unanswered_reason(result)
        entry = LogEntry(code=codes.CALL_UNANSWERED, at=self.clock.now(), site_id=item.site_id,
                         contact_id=item.contact_id, phone=item.to_phone, verification_id=item.verification_id,
                         comment=f"{SAYS.get(result, result)} (outbox {item.id}, {item.kind})",
                         details={"result": result, "outbox_id": item.id, "channel": "call"})
        if await self._settle(item, "failed", result, [entry]):
            log.warning("outbox %d: the call to %s ended unanswered: %s", item.id, item.to_phone, result)
            if self.gave_up is not None:
                await self.gave_up(item, reason)

    async def _answer(self, item: OutboxItem, verification: Verification, keyword, language: str,
                      said: str) -> CallScript:
        now = self.clock.now()
        answered = LogEntry(code=codes.CALL_ANSWERED, at=now, site_id=item.site_id, contact_id=item.contact_id,
                            phone=item.to_phone, verification_id=verification.id, event_id=verification.event_id,
                            comment=f"call answered: {masked(said)}",  # words said may hold a PIN
                            details={"pressed": masked(said), "outcome": keyword.outcome, "outbox_id": item.id,
                                     "channel": "call"})
        response = await self.answers.answer(verification, item.contact_id, keyword.outcome, channel="call",
                                             comment=f"{keyword.word} by call ({masked(said)})", extra=[answered])
        if response is None:  # answered (or expired) a moment before
            await self.ended(item, "completed")
            return self._script(language, self._over(await self._verification(item)), GOODBYE, listen=False)
        await self._settle(item, "delivered", None, [])
        reply = await self._reply(verification, keyword, item) or f"Thank you. The alarm is {response}."
        return self._script(language, reply, GOODBYE, listen=False)

    async def _settle(self, item: OutboxItem, outcome: str, result: str | None, entries: list[LogEntry]) -> bool:
        """Move the call's outbox row from sent to ``outcome`` (delivered, failed) with its recipient; False when
        it had been settled already."""
        carrier, sid = item_carrier_id(item)
        report = DeliveryReport(carrier=carrier, carrier_message_id=sid, status=outcome, error_code=result,
                                at=self.clock.now())
        settled = await self.store.delivery_report(report, lambda _item, _report: entries)
        if settled.logged:
            self.metrics.logged(settled.logged)
        return bool(settled.logged)

    async def _question(self, item: OutboxItem, language: str) -> CallScript:
        verification = await self._verification(item)
        if verification is None or verification.status in ("responded", "expired"):
            await self.ended(item, "completed")
            return self._script(language, self._over(verification), GOODBYE, listen=False)
        return self._script(language, item.body, choices(self.table().process(verification.process)), listen=True)

    def _over(self, verification: Verification | None) -> str:
        if verification is None or verification.status != "responded":
            return "This alarm verification is over. Thank you."
        return render(self.already_answered, {"site_name": "the site", "response": verification.response,
                                              "responder": verification.responder_name or "another contact"})

    async def _reply(self, verification: Verification, keyword, item: OutboxItem) -> str | None:
        if not keyword.reply:
            return None
        values = await self._values(verification, item)
        return render(keyword.reply, values) if values else None

    async def _machine_message(self, verification: Verification | None) -> str:
        values = await self._values(verification, None) if verification else {}
        return render(self.voice.machine_message, values or {"central_station": self.table().central_station})

    async def _values(self, verification: Verification, item: OutboxItem | None) -> dict[str, object]:
        site = await self.store.get_site(verification.site_id)
        if site is None:
            return {}
        contact = await self.store.get_contact(item.contact_id) if item and item.contact_id else None
        alarm = await self.store.get_alarm_event(verification.event_id) if verification.event_id else None
        return alert_values(site=site, alarm=alarm, contact=contact,
                            process=self.table().process(verification.process),
                            central_station=self.table().central_station, now=self.clock.now())

    async def _verification(self, item: OutboxItem) -> Verification | None:
        return await self.store.get_verification(item.verification_id) if item.verification_id else None

    async def _language(self, item: OutboxItem) -> str:
        contact = await self.store.get_contact(item.contact_id) if item.contact_id else None
        return (contact.language if contact else None) or self.voice.language

    def _script(self, language: str, *say: str, listen: bool) -> CallScript:
        voice = self.voice.voices.get(language) or self.voice.tts_voice
        return CallScript(say=tuple(s for s in say if s), listen=listen, language=language, voice=voice)


def item_carrier_id(item: OutboxItem) -> tuple[str, str]:
    """(carrier, carrier message id) of a placed call, as the carrier that placed it filled them in."""
    assert item.carrier is not None and item.carrier_message_id is not None, "the call was never placed"
    return item.carrier, item.carrier_message_id
