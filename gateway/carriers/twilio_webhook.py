"""Twilio's webhook forms (SMS, status and voice callbacks): read strictly, shaped as Twilio shapes them, signed.

Twilio's signature runs each key and value together with no separator (``MessageSidSM...NumMedia0``),
so a captured request still validates with a boundary moved: ``MessageSid=SM...NumMedia0`` without
``NumMedia`` is a "new" message, ``ApiVersion=2010-04-01BodyNO`` without ``Body`` an empty one, and a
key sent twice validates in either order. A moved boundary always leaves an identifier or a version
misshapen, a key missing, or a key twice, so a form that Twilio would not send is refused outright.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence

from aiohttp import web
from twilio.request_validator import RequestValidator

from gateway.errors import Forbidden
from gateway.web.bodies import read_form

log = logging.getLogger(__name__)

_MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
SHAPES = {
    "MessageSid": _MESSAGE_SID, "SmsSid": _MESSAGE_SID, "SmsMessageSid": _MESSAGE_SID,
    "AccountSid": re.compile(r"AC[0-9a-f]{32}"), "CallSid": re.compile(r"CA[0-9a-f]{32}"),
    "MessagingServiceSid": re.compile(r"MG[0-9a-f]{32}"), "ApiVersion": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "NumMedia": re.compile(r"\d{1,2}"), "NumSegments": re.compile(r"\d{1,3}"),
}
ALWAYS = ("AccountSid", "ApiVersion")  # Twilio sends both with every webhook
INBOUND = (*ALWAYS, "MessageSid", "From", "To", "Body")
STATUS = (*ALWAYS, "MessageSid", "MessageStatus")
VOICE = (*ALWAYS, "CallSid", "From", "To")


def refusal(pairs: Iterable[tuple[str, str]], account_sid: str, required: Sequence[str]) -> str | None:
    """Why a webhook form (its (key, value) pairs in wire order) is not one Twilio sends us; None when it is."""
    seen: set[str] = set()
    for key, value in pairs:
        if key in seen:
            return f"{key} given twice"
        seen.add(key)
        shape = SHAPES.get(key)
        if shape is not None and not shape.fullmatch(value):
            return f"{key} is not shaped like Twilio's"
        if key == "AccountSid" and value != account_sid:
            return "AccountSid is not this gateway's account"
    missing = [key for key in required if key not in seen]
    if missing:
        return f"{', '.join(missing)} missing"
    return None


class TwilioWebhook:
    """The form of one of Twilio's webhooks, or 403 (logged, nothing stored) for anything else."""

    def __init__(self, auth_token: str, account_sid: str, public_url: str, *, check_signatures: bool) -> None:
        self.validator = RequestValidator(auth_token)
        self.account_sid = account_sid
        self.public_url = public_url
        self.check_signatures = check_signatures

    async def form(self, request: web.Request, required: Sequence[str]):
        """The form of ``request``: read as UTF-8 (400, 413, 415 from the body reader), shaped, ours, signed."""
        form = await read_form(request)
        reason = refusal(form.items(), self.account_sid, required)
        if reason is None and self.check_signatures:
            signature = request.headers.get("X-Twilio-Signature")
            if not signature or not self.validator.validate(self.public_url + request.path_qs, form, signature):
                reason = f"{'wrong' if signature else 'no'} signature"
        if reason is not None:
            log.warning("twilio %s: %s from %s; rejected, nothing stored", request.path, reason, request.remote)
            raise Forbidden("Not a webhook Twilio signed for this account: the X-Twilio-Signature is missing or "
                            "wrong, or the form is not shaped as Twilio sends it.")
        return form
