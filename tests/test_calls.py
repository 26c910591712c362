"""The call method through the loopback carrier: a verification call, keys pressed, busy and machine endings."""

from __future__ import annotations

import pytest

from gateway.web.appkeys import CONFIG, SENDER
from tests.conftest import PHONE
from tests.helpers import codes, deliver, event_log, outbox

TEXT = "Alarm at Main Office, zone 3."


async def call(client, auth, site, contact, **fields) -> dict:
    resp = await client.post("/ext/v1/verifications", headers=auth, json={
        "site_id": site.id, "contacts": [contact.id], "method": "call", "message": TEXT, **fields})
    assert resp.status == 200, await resp.text()
    await deliver(client)
    return (await resp.json())["data"]


async def answer(client, call_id: int, **payload):
    resp = await client.post(f"/carriers/loopback/calls/{call_id}", json=payload)
    return resp.status, await resp.json()


async def verification(client, auth, verification_id: str) -> dict:
    return (await (await client.get(f"/ext/v1/verifications/{verification_id}", headers=auth)).json())["data"]


async def test_a_call_is_placed_and_pressing_1_confirms_with_the_texts_codes(client, auth, site, contact):
    data = await call(client, auth, site, contact)
    [placed] = await outbox(client)
    assert (placed["kind"], placed["to"], placed["body"]) == ("call", PHONE, TEXT)
    status, said = await answer(client, placed["id"], digits="9")
    assert status == 200 and said["listening"] and said["says"].startswith(TEXT)
    assert "Press 1 to confirm the alarm, press 2 to cancel the alarm, press 9 to hear this again." in said["says"]
    status, said = await answer(client, placed["id"], digits="1")
    assert status == 200 and not said["listening"]
    assert said["says"].startswith("Thank you John. Alarm at Main Office CONFIRMED.") and said["status"] == "delivered"
    got = await verification(client, auth, data["verification_id"])
    assert (got["status"], got["response"], got["responded_by"]) == ("responded", "confirmed", contact.id)
    rows = await event_log(client, auth, site.id)
    # the same code a "YES" text logs, and the call's own
    assert codes(rows)[-2:] == ["SMSYES", "CALLANSWER"]
    assert rows[-2]["details"]["channel"] == "call"
    assert (await answer(client, placed["id"], digits="2"))[0] == 409


async def test_a_spoken_no_cancels(client, auth, site, contact):
    data = await call(client, auth, site, contact)
    [placed] = await outbox(client)
    status, said = await answer(client, placed["id"], speech="No.")
    assert status == 200 and "CANCELLED" in said["says"]
    assert (await verification(client, auth, data["verification_id"]))["response"] == "cancelled"
    assert "SMSNO" in codes(await event_log(client, auth, site.id))


@pytest.mark.parametrize("result", ["busy", "no-answer", "failed", "canceled", "machine"])
async def test_a_call_nobody_answers_is_given_up_like_an_undeliverable_text(client, app, auth, site, contact,
                                                                            result):
    given_up = []

    async def hook(item, reason):
        given_up.append((item.channel, item.contact_id, reason))

    app[SENDER].give_up_hooks["verification"] = hook
    data = await call(client, auth, site, contact)
    [placed] = await outbox(client)
    status, said = await answer(client, placed["id"], result=result)
    assert status == 200 and not said["listening"] and said["status"] == "failed"
    if result == "machine":
        assert said["says"] == ("This is Acme Monitoring with an alarm at Main Office. Please call us back at once.")
    got = await verification(client, auth, data["verification_id"])
    [recipient] = got["sent_to"]
    assert recipient["status"] == "failed", recipient
    assert given_up == [("call", contact.id, given_up[0][2])] and result in given_up[0][2]
    rows = await event_log(client, auth, site.id)
    assert codes(rows)[-1] == "CALLNOANS" and rows[-1]["details"]["result"] == result
    assert (await answer(client, placed["id"], digits="1"))[0] == 409


async def test_nothing_pressed_asks_again_then_ends_unanswered(client, app, auth, site, contact):
    await call(client, auth, site, contact)
    [placed] = await outbox(client)
    repeats = app[CONFIG].voice.max_repeats
    for attempt in range(1, repeats):
        status, said = await answer(client, placed["id"], attempt=attempt)
        assert said["listening"] and said["says"].startswith("Sorry, I did not get that.")
    status, said = await answer(client, placed["id"], attempt=repeats)
    assert not said["listening"] and said["status"] == "failed"


async def test_bad_answers_are_refused(client, auth, site, contact):
    await call(client, auth, site, contact)
    [placed] = await outbox(client)
    assert (await answer(client, placed["id"], digits="12"))[0] == 422
    assert (await answer(client, placed["id"], result="hung-up"))[0] == 422
    assert (await answer(client, placed["id"], digits="1", result="busy"))[0] == 422
    assert (await answer(client, 999999, digits="1"))[0] == 404


async def test_words_said_on_a_call_are_stored_without_a_pin(client, auth, site, contact):
    await call(client, auth, site, contact)
    [placed] = await outbox(client)
    status, said = await answer(client, placed["id"], speech="yes 4321")
    assert status == 200 and "CONFIRMED" in said["says"]
    rows = await event_log(client, auth, site.id)
    assert all("4321" not in (r["comment"] or "") and "4321" not in str(r["details"]) for r in rows)
    assert rows[-1]["comment"] == "call answered: yes ****"


async def test_a_carrier_that_places_no_calls_gives_the_call_up(client, app, auth, site, contact):
    from tests.test_outbox import ScriptedCarrier

    app[SENDER].carrier = ScriptedCarrier(app[SENDER].carrier.services, [])  # texts only
    resp = await client.post("/ext/v1/verifications", headers=auth, json={
        "site_id": site.id, "contacts": [contact.id], "method": "call", "message": TEXT})
    await deliver(client)
    got = await verification(client, auth, (await resp.json())["data"]["verification_id"])
    assert got["sent_to"][0]["status"] == "failed" and "Calling" in got["sent_to"][0]["error"]
    assert app[SENDER].carrier.sent == []
