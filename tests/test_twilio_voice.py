"""The call method through Twilio: the real twilio library against the fake Twilio's Calls resource, and the
signed voice webhooks (TwiML, gather, status, answering-machine detection)."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import PHONE
from tests.fake_twilio import with_twilio
from tests.helpers import codes, deliver, event_log

TEXT = "Alarm at Main Office, zone 3."
VOICE = "/carriers/twilio/voice"


@pytest.fixture
def config(config, fake_twilio):
    return with_twilio(config, fake_twilio, max_per_second=100)


async def place(client, auth, site, contact, tw) -> tuple[str, object]:
    resp = await client.post("/ext/v1/verifications", headers=auth, json={
        "site_id": site.id, "contacts": [contact.id], "method": "call", "message": TEXT})
    assert resp.status == 200, await resp.text()
    await deliver(client)
    [call] = tw.calls.placed
    return (await resp.json())["data"]["verification_id"], call


async def recipient(client, auth, verification_id: str) -> dict:
    data = (await (await client.get(f"/ext/v1/verifications/{verification_id}", headers=auth)).json())["data"]
    return data | {"recipient": data["sent_to"][0]}


async def test_the_call_is_created_with_its_webhooks_and_machine_detection(client, config, auth, site, contact, tw):
    _, call = await place(client, auth, site, contact, tw)
    base = config.http.public_url.rstrip("/") + VOICE
    assert call.form["To"] == PHONE and call.form["From"] == "+15005550006"
    assert (call.form["Url"], call.form["StatusCallback"]) == (f"{base}/twiml", f"{base}/status")
    assert call.form["MachineDetection"] == "Enable" and call.form["Timeout"] == "30"


async def test_answered_twiml_gathers_and_a_press_of_1_confirms(client, config, auth, site, contact, tw):
    verification_id, call = await place(client, auth, site, contact, tw)
    status, body = await tw.calls.answer(call)
    assert status == 200
    assert '<Gather action="' in body and 'input="dtmf speech"' in body and 'numDigits="1"' in body
    assert '<Say language="en-US" voice="alice">Alarm at Main Office, zone 3.</Say>' in body
    assert call.said.endswith("Press 1 to confirm the alarm, press 2 to cancel the alarm, press 9 to hear this again.")
    assert (await tw.calls.press(call, digits="9"))[0] == 200 and call.said.startswith(TEXT)
    status, body = await tw.calls.press(call, digits="1")
    assert status == 200 and body.endswith("<Hangup /></Response>")
    assert call.said.startswith("Thank you John. Alarm at Main Office CONFIRMED.")
    got = await recipient(client, auth, verification_id)
    assert (got["status"], got["response"], got["recipient"]["status"]) == ("responded", "confirmed", "delivered")
    assert (await tw.calls.end(call, "completed"))[0] == 204
    assert codes(await event_log(client, auth, site.id))[-2:] == ["SMSYES", "CALLANSWER"]


async def test_a_spoken_answer_in_the_contacts_language(client, store, config, auth, site, contact, tw):
    import msgspec

    await store.update_contact(msgspec.structs.replace(contact, language="es-MX"), reset_welcome=False)
    verification_id, call = await place(client, auth, site, contact, tw)
    _, body = await tw.calls.answer(call)
    assert 'language="es-MX"' in body
    await tw.calls.press(call, speech="no")
    assert (await recipient(client, auth, verification_id))["response"] == "cancelled"


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed", "canceled"])
async def test_a_call_that_ends_unanswered_fails_its_recipient(client, app, auth, site, contact, tw, status):
    from gateway.web.appkeys import SENDER

    reasons = []

    async def hook(item, reason):
        reasons.append(reason)

    app[SENDER].give_up_hooks["verification"] = hook
    verification_id, call = await place(client, auth, site, contact, tw)
    assert (await tw.calls.end(call, status))[0] == 204
    got = await recipient(client, auth, verification_id)
    assert got["recipient"]["status"] == "failed" and len(reasons) == 1 and status in reasons[0]
    rows = await event_log(client, auth, site.id)
    assert codes(rows)[-1] == "CALLNOANS" and rows[-1]["details"]["result"] == status
    await tw.calls.end(call, status)  # Twilio retries a callback: given up once
    assert len(reasons) == 1


async def test_an_answering_machine_gets_a_short_message(client, auth, site, contact, tw):
    verification_id, call = await place(client, auth, site, contact, tw)
    status, body = await tw.calls.answer(call, answered_by="machine_start")
    assert status == 200 and "<Gather" not in body and body.endswith("<Hangup /></Response>")
    assert call.said == "This is Acme Monitoring with an alarm at Main Office. Please call us back at once."
    assert (await recipient(client, auth, verification_id))["recipient"]["status"] == "failed"
    assert (await event_log(client, auth, site.id))[-1]["details"]["result"] == "machine"


@pytest.mark.parametrize("path", ["twiml", "gather", "status"])
async def test_forged_voice_webhooks_are_refused(client, config, auth, site, contact, tw, caplog, path):
    verification_id, call = await place(client, auth, site, contact, tw)
    url = config.http.public_url.rstrip("/") + f"{VOICE}/{path}"
    fields = tw.calls.fields(call, Digits="1", CallStatus="busy")
    forged = tw.sign(url, {**fields, "Digits": "2"})
    with caplog.at_level(logging.WARNING):
        for headers in ({}, {"X-Twilio-Signature": forged}):
            resp = await client.post(f"{VOICE}/{path}", data=fields, headers=headers)
            assert resp.status == 403
    got = await recipient(client, auth, verification_id)
    assert (got["status"], got["recipient"]["status"]) == ("sent", "sent")


async def test_a_webhook_about_a_call_we_did_not_place_hangs_up(client, config, tw):
    from tests.fake_twilio_calls import PlacedCall

    stranger = PlacedCall("CA" + "e" * 32, {"To": PHONE, "From": "+15005550006",
                                            "Url": config.http.public_url.rstrip("/") + f"{VOICE}/twiml"}, 0)
    status, body = await tw.calls.answer(stranger)
    assert status == 200 and body.endswith("<Response><Hangup /></Response>")
