"""``POST /carriers/loopback/calls/{id}``: answering a call the loopback carrier placed, as a phone would.

``{"digits": "1"}`` presses a key (the call is picked up by a person), ``{"speech": "yes"}`` says a word,
``{"result": "busy" | "no-answer" | "failed" | "canceled" | "machine" | "completed"}`` ends it as Twilio's
call status would (``machine``: an answering machine picked up; ``completed``: hung up). The answer is what
the call says next, and whether it still listens; a call that is over answers 409.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from aiohttp import web

from gateway.errors import Conflict, NotFound, ValidationFailed
from gateway.web.bodies import decode_json
from gateway.web.openapi import Param, operation

if TYPE_CHECKING:
    from gateway.carriers.base import CarrierServices

RESULTS = ("busy", "no-answer", "failed", "canceled", "machine", "completed")


class CallAnswer(msgspec.Struct, forbid_unknown_fields=True):
    """One of ``digits``, ``speech`` or ``result``."""

    digits: str | None = None
    speech: str | None = None
    result: str | None = None
    attempt: int = 1  # the how-manieth time the question has been asked, for a call nobody presses a key on


class CallSays(msgspec.Struct):
    call_id: int
    says: str  # what the call says next ("" when it just ended)
    listening: bool  # whether it waits for another key
    status: str  # the call's outbox status: sent while it goes on, delivered (answered) or failed


DOCUMENTED = operation(
    summary="Answer a call the loopback carrier placed", tag="loopback", security=None, body=CallAnswer,
    params=[Param("call_id", "path", int, "The call's id in GET /carriers/loopback/outbox (kind call)")],
    responses={200: (CallSays, "What the call says next")},
    errors={400: "Malformed JSON", 404: "No such call", 409: "The call is over (code CONFLICT)",
            413: "Body too large", 415: "Not application/json",
            422: "Not one of digits (one key), speech or result (busy, no-answer, failed, canceled, machine, completed)"},
    description="Offline testing and `gateway chat`: press a key, say a word, or end the call as Twilio's call "
                "status would; only with the loopback carrier.")


async def answer_loopback_call(services: CarrierServices, request: web.Request) -> web.Response:
    payload = await decode_json(request, CallAnswer)
    if sum(x is not None for x in (payload.digits, payload.speech, payload.result)) > 1:
        raise ValidationFailed("Give one of digits, speech or result.", field="digits")
    if payload.result is not None and payload.result not in RESULTS:
        raise ValidationFailed(f"result must be one of {', '.join(RESULTS)}.", field="result")
    if payload.digits is not None and not (len(payload.digits) == 1 and payload.digits in "0123456789*#"):
        raise ValidationFailed("digits is one key: 0-9, * or #.", field="digits")
    try:
        call_id = int(request.match_info["call_id"])
    except ValueError:
        raise NotFound("No such call.") from None
    row = await services.store.loopback_call(call_id)
    found = await services.store.outbound_by_carrier_id(row["carrier"], row["carrier_message_id"]) if row else None
    if found is None or services.calls is None:
        raise NotFound("No such call.", call_id=call_id)
    item, status = found
    if status != "sent":
        raise Conflict(f"The call is over ({status}).", call_id=call_id, status=status)
    desk = services.calls
    if payload.result == "machine":
        script = await desk.opening(item, answered_by="machine_start")
    elif payload.result is not None:
        await desk.ended(item, payload.result)
        script = None
    else:
        script = await desk.pressed(item, payload.digits, payload.speech, payload.attempt)
    after = await services.store.outbound_by_carrier_id(row["carrier"], row["carrier_message_id"])
    return web.json_response(msgspec.to_builtins(CallSays(
        call_id=call_id, says=script.text if script else "", listening=bool(script and script.listen),
        status=after[1] if after else status)))
