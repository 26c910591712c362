"""The fake Twilio's Calls resource: calls created through the real twilio library, and what Twilio then
does with one: fetch its TwiML (``answer``, with ``AnsweredBy`` under machine detection), post what was
pressed or said to the ``<Gather>``'s action (``press``), and post the call's end (``end``), each signed."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from aiohttp import web

if TYPE_CHECKING:
    from tests.fake_twilio import FakeTwilio


@dataclass
class PlacedCall:
    sid: str
    form: dict[str, str]  # what the gateway asked for: To, From, Url, StatusCallback, MachineDetection ...
    at: float
    twiml: list[str] = field(default_factory=list)  # every TwiML document the gateway answered, in order

    @property
    def said(self) -> str:
        """The words of the last TwiML answer."""
        return " ".join(s.text or "" for s in ElementTree.fromstring(self.twiml[-1]).iter("Say"))

    @property
    def gather_action(self) -> str | None:
        gather = ElementTree.fromstring(self.twiml[-1]).find("Gather")
        return gather.get("action") if gather is not None else None


class FakeCalls:
    def __init__(self, twilio: FakeTwilio) -> None:
        self.twilio = twilio
        self.placed: list[PlacedCall] = []

    async def create(self, request: web.Request) -> web.Response:
        fake = self.twilio
        if not fake._authorized(request) or request.match_info["account"] != fake.account_sid:
            fake.refused += 1
            return fake._error(401, 20003, "Authenticate")
        form = dict(await request.post())
        if not re.fullmatch(r"\+[1-9]\d{6,14}", form.get("To", "")):
            return fake._error(400, 21217, "Phone number is not a valid phone number")
        sid = f"CA{len(self.placed) + 1:032x}"
        self.placed.append(PlacedCall(sid, form, fake._now()))
        stamp = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        return web.json_response({
            "sid": sid, "account_sid": fake.account_sid, "to": form["To"], "from": form.get("From"),
            "status": "queued", "direction": "outbound-api", "api_version": "2010-04-01", "date_created": stamp,
            "date_updated": stamp, "uri": f"/2010-04-01/Accounts/{fake.account_sid}/Calls/{sid}.json"}, status=201)

    def fields(self, call: PlacedCall, **extra: str) -> dict[str, str]:
        return {"AccountSid": self.twilio.account_sid, "ApiVersion": "2010-04-01", "CallSid": call.sid,
                "From": call.form.get("From", ""), "To": call.form["To"], "Direction": "outbound-api", **extra}

    async def _post(self, call: PlacedCall, url: str, fields: dict[str, str]) -> tuple[int, str]:
        status, body = await self.twilio.post_signed(url, fields)
        if status == 200:
            call.twiml.append(body)
        return status, body

    async def answer(self, call: PlacedCall, answered_by: str | None = "human") -> tuple[int, str]:
        """The call is picked up: Twilio fetches its TwiML (machine detection says who picked up)."""
        extra = {"CallStatus": "in-progress"}
        if answered_by and call.form.get("MachineDetection"):
            extra["AnsweredBy"] = answered_by
        return await self._post(call, call.form["Url"], self.fields(call, **extra))

    async def press(self, call: PlacedCall, digits: str | None = None, speech: str | None = None) -> tuple[int, str]:
        """What the person pressed or said, posted to the last TwiML's <Gather action>."""
        extra = {"CallStatus": "in-progress"}
        if digits is not None:
            extra["Digits"] = digits
        if speech is not None:
            extra.update(SpeechResult=speech, Confidence="0.92")
        return await self._post(call, call.gather_action, self.fields(call, **extra))

    async def end(self, call: PlacedCall, status: str) -> tuple[int, str]:
        """The call's status callback: completed, busy, no-answer, failed or canceled."""
        return await self.twilio.post_signed(call.form["StatusCallback"], self.fields(
            call, CallStatus=status, CallDuration="0" if status != "completed" else "21"))
