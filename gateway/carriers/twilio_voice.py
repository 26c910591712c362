"""Twilio Programmable Voice: placing a verification call and the signed webhooks it calls back.

``place`` creates the call (Calls resource) with its TwiML URL, a status callback and, when
``voice.machine_detection`` is on, answering-machine detection: Twilio then fetches the TwiML only once it
knows who picked up, with ``AnsweredBy``. The webhooks live under ``/carriers/twilio/voice/``:

- ``twiml``: the call was answered: say the verification inside ``<Gather input="dtmf speech" numDigits="1">``
  (a machine hears a short message instead and the call counts as unanswered);
- ``gather?attempt=N``: the key pressed or the words said (``Digits``, ``SpeechResult``; neither: nothing, in time);
- ``status``: how the call ended (completed, busy, no-answer, failed, canceled).

Each is checked as the SMS webhooks are (gateway/carriers/twilio_webhook.py); what the words mean is
gateway/services/calls.py's business.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from twilio.base.exceptions import TwilioException
from twilio.twiml.voice_response import Gather, VoiceResponse

from gateway.carriers import twilio_webhook
from gateway.errors import CarrierError
from gateway.services.calls import CallScript
from gateway.stores import OutboxItem

if TYPE_CHECKING:
    from gateway.carriers.twilio import TwilioCarrier

log = logging.getLogger(__name__)
ENDED = ("completed", "busy", "no-answer", "failed", "canceled")
HINTS = "yes, no, confirm, cancel"
GATHER_SECONDS = 6  # of silence after the question before the Gather reports nothing


class TwilioVoice:
    """The carrier's voice side: one per TwilioCarrier, sharing its client, settings and webhook checks."""

    def __init__(self, carrier: TwilioCarrier) -> None:
        self.carrier = carrier
        self.base = carrier.settings.public_url.rstrip("/") + "/carriers/twilio/voice"

    async def place(self, item: OutboxItem) -> str:
        """Start the call to ``item.to_phone``; its sid."""
        client = self.carrier.client
        assert client is not None, "carrier not started"
        voice = self.carrier.services.config.voice
        fields = {"to": item.to_phone, "from_": item.from_phone or self.carrier.settings.from_number,
                  "url": f"{self.base}/twiml", "method": "POST", "status_callback": f"{self.base}/status",
                  "status_callback_method": "POST", "timeout": voice.timeout_seconds}
        if voice.machine_detection:
            fields["machine_detection"] = "Enable"
        try:
            call = await client.calls.create_async(**fields)
        except TwilioException as exc:
            status = getattr(exc, "status", None) or 0
            code = str(getattr(exc, "code", None) or status)
            raise CarrierError(f"Twilio {status} error {code}: {getattr(exc, 'msg', None) or exc}",
                               retryable=status >= 500 or status == 429 or code == "20429", code=code) from None
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            raise CarrierError(f"Twilio did not answer: {type(exc).__name__}", retryable=True, code="timeout") from None
        return call.sid

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/voice/twiml", self.twiml), web.post("/voice/gather", self.gather),
                web.post("/voice/status", self.status)]

    async def twiml(self, request: web.Request) -> web.Response:
        form = await self.carrier.webhook.form(request, twilio_webhook.VOICE)
        item = await self._call(form["CallSid"])
        if item is None:
            return _hang_up()
        script = await self._desk().opening(item, answered_by=form.get("AnsweredBy"))
        return self._answer(script, attempt=1)

    async def gather(self, request: web.Request) -> web.Response:
        form = await self.carrier.webhook.form(request, twilio_webhook.VOICE)
        item = await self._call(form["CallSid"])
        if item is None:
            return _hang_up()
        try:
            attempt = max(1, int(request.query.get("attempt", "1")))
        except ValueError:
            attempt = 1
        script = await self._desk().pressed(item, form.get("Digits"), form.get("SpeechResult"), attempt)
        return self._answer(script, attempt=attempt + 1)

    async def status(self, request: web.Request) -> web.Response:
        form = await self.carrier.webhook.form(request, (*twilio_webhook.VOICE, "CallStatus"))
        status = form["CallStatus"].lower()
        item = await self._call(form["CallSid"])
        if item is not None and status in ENDED:
            await self._desk().ended(item, status)
        return web.Response(status=204)

    def _answer(self, script: CallScript, *, attempt: int) -> web.Response:
        response = VoiceResponse()
        say = dict(voice=script.voice, language=script.language)
        if script.listen:
            gather = Gather(input="dtmf speech", num_digits=1, action=f"{self.base}/gather?attempt={attempt}",
                            method="POST", language=script.language, hints=HINTS, timeout=GATHER_SECONDS,
                            action_on_empty_result=True)
            for line in script.say:
                gather.say(line, **say)
            response.append(gather)
        else:
            for line in script.say:
                response.say(line, **say)
            response.hangup()
        return _twiml(response)

    def _desk(self):
        desk = self.carrier.services.calls
        assert desk is not None, "no call desk: the application factory hands one in"
        return desk

    async def _call(self, sid: str) -> OutboxItem | None:
        """The outbox message of call ``sid``; the outbox records the sid once ``place`` returns, which a fast
        webhook can overtake: waited for, briefly."""
        store = self.carrier.services.store
        found = await self.carrier.overtaken(lambda: store.outbound_by_carrier_id(self.carrier.name, sid),
                                             lambda found: found is not None)
        if found is not None:
            return found[0]
        log.warning("twilio voice: a webhook about call %s, which this gateway did not place; hung up", sid)
        return None


def _hang_up() -> web.Response:
    response = VoiceResponse()
    response.hangup()
    return _twiml(response)


def _twiml(response: VoiceResponse) -> web.Response:
    return web.Response(text=str(response), content_type="text/xml")
