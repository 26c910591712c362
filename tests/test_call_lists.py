"""Call lists through the HTTP surface: contacts reached in call order, a step each ``step_seconds`` without a
decisive answer, the first answer ending the list, unreachable contacts skipped at once, quiet hours.

The clock is moved, never slept: the escalation loop's ``run_once`` is the pass a running daemon makes."""

from __future__ import annotations

from datetime import datetime, timezone

import msgspec
import pytest

from gateway.clock import ManualClock
from gateway.config import Config, Database, Http, Outbox
from gateway.model import Contact, PhoneLookup
from gateway.web.appkeys import ESCALATION, EXPIRY, STORE
from tests.conftest import free_port
from tests.helpers import codes, deliver, event_log, outbox, post_alarm, text

A, B, C = "+15550100001", "+15550100002", "+15550100003"

KEYWORDS = """
central_station: Acme
auto_processes:
  - name: burglary-call-list
    triggers: [BA]
    template: "ALARM at {site_name} for {first_name}. Reply YES or NO."
    timeout_seconds: 600
    escalation:
      mode: in_order
      step_seconds: 60
      steps:
        - methods: [sms]
          code: SMSSTEP1
        - {methods: [%(second)s]%(extra)s}
    codes: {sent: SMSSENT, response: SMSReply, pin_response: SMSPINReply, expired: SMSTIMEOUT,
            step: SMSSTEP, skipped: SMSSKIP, held: SMSQUIET}
    keywords:
      - {keyword: "YES", code: SMSYES, outcome: confirm, reply: "Thanks {first_name}: confirmed."}
      - {keyword: "NO", code: SMSNO, outcome: cancel, reply: "Thanks {first_name}: cancelled."}
      - {keyword: "HELP", code: SMSHELP, outcome: help, reply: "Reply YES or NO."}
  - name: trouble
    triggers: [AT]
    template: "Trouble at {site_name}. Reply YES."
    timeout_seconds: 600
    urgent: false
    codes: {sent: SMSSENT, response: SMSReply, pin_response: SMSPINReply, expired: SMSTIMEOUT}
    keywords:
      - {keyword: "YES", code: SMSYES, outcome: confirm}
  - name: fire
    triggers: [FA]
    template: "FIRE at {site_name}. Reply YES."
    timeout_seconds: 600
    codes: {sent: SMSSENT, response: SMSReply, pin_response: SMSPINReply, expired: SMSTIMEOUT}
    keywords:
      - {keyword: "YES", code: SMSYES, outcome: confirm}
"""


@pytest.fixture
def second_method() -> str:
    return "sms"


@pytest.fixture
def last_step_extra() -> str:
    return ""


@pytest.fixture
def config(tmp_path, second_method, last_step_extra) -> Config:
    keywords = tmp_path / "keywords.yaml"
    keywords.write_text(KEYWORDS % {"second": second_method, "extra": last_step_extra}, encoding="utf-8")
    return Config(http=Http(port=free_port()), database=Database(url=f"sqlite:///{tmp_path}/gateway.sqlite3"),
                  keywords=str(keywords), outbox=Outbox(poll_seconds=0.05, backoff_base_seconds=1.0))


async def _people(store, site, clock, **extra) -> list[Contact]:
    """Three contacts, added out of call order: Carol (3), Alice (1), Bob (2)."""
    added = []
    for first, phone, order in (("Carol", C, 3), ("Alice", A, 1), ("Bob", B, 2)):
        added.append(await store.add_contact(Contact(
            id=0, site_id=site.id, first_name=first, last_name="Key", phone=phone, auto_notify=True,
            call_order=order, created_at=clock.now(), **extra.get(first, {}))))
    return added


async def _step(client, clock: ManualClock, seconds: float) -> None:
    clock.advance(seconds)
    await client.app[ESCALATION].run_once()
    await deliver(client)


def _to(messages: list[dict]) -> list[str]:
    return [m["to"] for m in messages]


async def _verification(client, auth, verification_id: str) -> dict:
    resp = await client.get(f"/ext/v1/verifications/{verification_id}", headers=auth)
    assert resp.status == 200, await resp.text()
    return (await resp.json())["data"]


async def test_in_order_reaches_one_contact_per_step_and_the_first_answer_ends_the_list(
        client, auth, site, clock):
    await _people(client.app[STORE], site, clock)
    alarm = await post_alarm(client, auth, site.id, "BA", event_id="evt_1")
    await deliver(client)
    assert _to(await outbox(client)) == [A]  # Alice first: call order 1, though added second

    await _step(client, clock, 59)  # within the step: nobody else yet
    assert _to(await outbox(client)) == [A]
    await _step(client, clock, 1)
    assert _to(await outbox(client)) == [A, B]  # no decisive answer in 60 s: Bob

    answer = await text(client, B, "YES")
    assert answer["replies"] == ["Thanks Bob: confirmed."]
    late = await text(client, A, "NO")  # Alice, reached before, is told who answered
    assert late["replies"] == ["The alarm at Main Office was already confirmed by Bob Key."]
    await _step(client, clock, 300)
    assert _to(await outbox(client)) == [A, B]  # Carol is never reached

    rows = await event_log(client, auth, site.id)
    steps = [(r["code"], r["details"]["step"], r["details"]["recipient"], r["details"]["methods"])
             for r in rows if r["code"].startswith("SMSSTEP")]
    assert steps == [("SMSSTEP1", 1, "Alice Key", ["sms"]), ("SMSSTEP", 2, "Bob Key", ["sms"])]
    shown = await _verification(client, auth, alarm["verifications"][0]["verification_id"])
    assert shown["escalation"] == "in_order" and shown["step_seconds"] == 60
    assert [(r["name"], r["step"], r["method"], r["status"]) for r in shown["sent_to"]] == [
        ("Alice Key", 1, "sms", "sent"), ("Bob Key", 2, "sms", "sent"), ("Carol Key", 3, "sms", "not_reached")]
    assert shown["status"] == "responded" and shown["response"] == "confirmed"


async def test_a_non_decisive_reply_does_not_stop_the_list(client, auth, site, clock):
    await _people(client.app[STORE], site, clock)
    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    assert (await text(client, A, "HELP"))["replies"] == ["Reply YES or NO."]
    await _step(client, clock, 60)
    await _step(client, clock, 60)
    assert _to(await outbox(client)) == [A, B, C]  # the last step serves every later contact


async def test_opted_out_and_landline_contacts_are_skipped_at_once(client, auth, site, clock):
    store = client.app[STORE]
    await _people(store, site, clock)
    await store.save_lookup(PhoneLookup(phone=B, valid=True, line_type="landline", looked_up_at=clock.now()))
    await store.set_opt_out(A, True, "STOP", clock.now(), [])
    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    assert _to(await outbox(client)) == [C]  # Alice opted out, Bob a landline: Carol at once, no waiting
    skipped = [(r["details"]["step"], r["comment"]) for r in await event_log(client, auth, site.id)
               if r["code"] == "SMSSKIP"]
    assert skipped == [(1, "Step 1: sms to Alice Key skipped: opted out (STOP)."),
                       (2, "Step 2: sms to Bob Key skipped: landline: cannot take a text.")]


async def test_a_failed_text_moves_the_list_on_at_once(client, auth, site, clock):
    """The outbox gives up on Alice's text (her number opted out after the alarm was queued): Bob is reached at
    the escalation loop's next pass, not sixty seconds later."""
    await _people(client.app[STORE], site, clock)
    alarm = await post_alarm(client, auth, site.id, "BA")
    verification_id = alarm["verifications"][0]["verification_id"]
    await client.app[STORE].set_opt_out(A, True, "STOP", clock.now(), [])
    await deliver(client)  # the sender gives up on Alice's text, and its give-up hook wakes the escalation loop
    assert await outbox(client) == []
    assert client.app[ESCALATION]._wake.is_set()
    await _step(client, clock, 0)
    assert _to(await outbox(client)) == [B]  # with the clock not moved at all
    shown = await _verification(client, auth, verification_id)
    assert [(r["step"], r["status"], r["error"]) for r in shown["sent_to"]] == [
        (1, "failed", "The number opted out (STOP); not sent."), (2, "sent", None), (3, "waiting", None)]


@pytest.mark.parametrize("second_method", ["sms, call"])
async def test_a_call_step_plans_a_call_in_the_outbox(client, auth, site, clock):
    await _people(client.app[STORE], site, clock)
    alarm = await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    clock.advance(60)
    await client.app[ESCALATION].run_once()
    planned = await client.app[STORE].outbound_texts(verification_id=alarm["verifications"][0]["verification_id"],
                                                     limit=10)
    assert sorted((t.to_phone, t.channel) for t in planned) == [(A, "sms"), (B, "call"), (B, "sms")]
    [call] = [t for t in planned if t.channel == "call"]
    assert call.body == "ALARM at Main Office for Bob."  # its call_template: no "Reply YES or NO" on a call


@pytest.mark.parametrize("second_method", ["call"])
@pytest.mark.parametrize("result", ["busy", "machine"])
async def test_a_call_step_nobody_answers_moves_the_list_on_at_once(client, auth, site, clock, result):
    """Step 2 calls Bob through the loopback carrier; the call ends busy (or a machine answers): Carol, whom the
    last step serves, is called at the escalation loop's next pass, with the clock not moved."""
    await _people(client.app[STORE], site, clock)
    alarm = await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    await _step(client, clock, 60)
    [placed] = [m for m in await outbox(client) if m["kind"] == "call"]
    assert placed["to"] == B
    resp = await client.post(f"/carriers/loopback/calls/{placed['id']}", json={"result": result})
    assert resp.status == 200, await resp.text()
    await _step(client, clock, 0)
    assert [(m["to"], m["kind"]) for m in await outbox(client)] == [(A, "sms"), (B, "call"), (C, "call")]
    shown = await _verification(client, auth, alarm["verifications"][0]["verification_id"])
    assert [(r["name"], r["step"], r["method"], r["status"]) for r in shown["sent_to"]] == [
        ("Alice Key", 1, "sms", "sent"), ("Bob Key", 2, "call", "failed"), ("Carol Key", 3, "call", "sent")]
    assert "CALLNOANS" in codes(await event_log(client, auth, site.id))


async def test_quiet_hours_hold_a_non_urgent_process_and_not_an_urgent_one(client, auth, site, clock):
    """At 02:00 contact time: the trouble text waits for 07:00; the fire text goes at once."""
    store = client.app[STORE]
    await store.add_contact(Contact(id=0, site_id=site.id, first_name="Dana", last_name="Night", phone=A,
                                    auto_notify=True, time_zone="Europe/Berlin", quiet_hours="22:00-07:00",
                                    created_at=clock.now()))
    clock.advance(hours=9.5)
    assert clock.now() == datetime(2026, 1, 16, 1, 0, tzinfo=timezone.utc)  # 02:00 in Berlin
    trouble = await post_alarm(client, auth, site.id, "AT")
    await post_alarm(client, auth, site.id, "FA")
    await deliver(client)
    assert [m["body"] for m in await outbox(client)] == ["FIRE at Main Office. Reply YES."]
    held = [r for r in await event_log(client, auth, site.id) if r["code"] == "SMSQUIET"]
    assert [r["comment"] for r in held] == [
        "Dana Night is in quiet hours (22:00-07:00) until 07:00 CET: sms then (the process is not urgent)."]

    await _step(client, clock, 5 * 3600 - 1)  # 06:59:59 in Berlin
    await client.app[EXPIRY].run_once()
    assert len(await outbox(client)) == 1
    await _step(client, clock, 1)  # 07:00
    assert [m["body"] for m in await outbox(client)][1:] == ["Trouble at Main Office. Reply YES."]
    shown = await _verification(client, auth, trouble["verifications"][0]["verification_id"])
    assert shown["status"] == "sent"  # not expired while held: its timeout counts from 07:00


async def test_the_verifications_api_takes_a_call_list_in_the_order_given(client, auth, site, clock):
    carol, alice, bob = await _people(client.app[STORE], site, clock)
    resp = await client.post("/ext/v1/events/evt_api/verifications", headers=auth, json={
        "contacts": [f"contact_{bob.id}", alice.id], "method": "sms", "timeout_seconds": 180,
        "escalation": "in_order", "step_seconds": 30, "site_id": site.id})
    assert resp.status == 200, await resp.text()
    data = (await resp.json())["data"]
    assert data["escalation"] == "in_order" and data["step_seconds"] == 30 and data["method"] == "sms"
    assert [(r["contact_id"], r["step"], r["method"], r["status"]) for r in data["sent_to"]] == [
        (bob.id, 1, "sms", "pending"), (alice.id, 2, "sms", "waiting")]
    await _step(client, clock, 29)
    assert _to(await outbox(client)) == [B]
    await _step(client, clock, 1)
    assert _to(await outbox(client)) == [B, A]
    shown = await _verification(client, auth, data["verification_id"])
    assert [(r["step"], r["status"]) for r in shown["sent_to"]] == [(1, "sent"), (2, "sent")]
    assert shown["timeout_at"] == data["timeout_at"]  # 180 s from the start: the last step's 30 s fit in it


async def test_the_verifications_api_refuses_a_call_list_it_cannot_keep(client, auth, site, clock):
    await _people(client.app[STORE], site, clock)
    base = {"site_id": site.id, "contacts": ["all"], "method": "sms"}
    for extra, status, field in (({"escalation": "in_order", "require_response": False}, 422, "escalation"),
                                 ({"escalation": "by_lottery"}, 422, None), ({"step_seconds": 5}, 422, None),
                                 ({"step_seconds": 30}, 422, "step_seconds")):
        resp = await client.post("/ext/v1/verifications", headers=auth, json={**base, **extra})
        assert resp.status == status, (extra, await resp.text())
        if field:
            assert (await resp.json())["error"]["details"]["field"] == field
    assert await outbox(client) == []


async def test_the_openapi_document_describes_call_lists_as_they_are_answered(client, auth, site, clock):
    from jsonschema import Draft202012Validator

    doc = await (await client.get("/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    for body in ("EventVerificationIn", "GeneralVerificationIn"):
        assert schemas[body]["properties"]["escalation"]["enum"] == ["all", "in_order"]
        assert schemas[body]["properties"]["step_seconds"]["anyOf"][0]["minimum"] == 10
    assert {"call_order", "quiet_hours", "time_zone"} <= set(schemas["ContactIn"]["properties"])
    await _people(client.app[STORE], site, clock)
    resp = await client.post("/ext/v1/verifications", headers=auth, json={
        "site_id": site.id, "contacts": ["all"], "method": "sms", "escalation": "in_order"})
    data = (await resp.json())["data"]
    assert [r["name"] for r in data["sent_to"]] == ["Alice Key", "Bob Key", "Carol Key"]  # ["all"]: call order
    await _step(client, clock, 60)
    got = await client.get(f"/ext/v1/verifications/{data['verification_id']}", headers=auth)
    schema = doc["paths"]["/ext/v1/verifications/{verification_id}"]["get"]["responses"]["200"]["content"]
    validator = Draft202012Validator({**schema["application/json"]["schema"], "components": doc["components"]})
    errors = list(validator.iter_errors(await got.json()))
    assert not errors, errors[0].message
    assert [(r["step"], r["status"]) for r in (await got.json())["data"]["sent_to"]] == [
        (1, "sent"), (2, "sent"), (3, "waiting")]


async def test_a_call_list_survives_a_restart(aiohttp_client, config, clock, site, auth, client):
    """The daemon stops between step 1 and step 2: the next one, on the same store, reaches step 2 when due."""
    await _people(client.app[STORE], site, clock)
    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    await client.close()  # the first daemon is gone: its loop never saw step 2 fall due
    clock.advance(90)
    from gateway.web.app import create_app

    again = await aiohttp_client(create_app(config, clock=clock, run_loops=False))
    assert await again.app[ESCALATION].run_once() == 1
    assert await again.app[ESCALATION].run_once() == 0  # reached once
    await deliver(again)
    assert _to(await outbox(again)) == [A, B]


@pytest.mark.parametrize("last_step_extra", [", everyone_left: true"])
async def test_the_last_step_may_reach_everyone_left_at_once(client, auth, site, clock):
    await _people(client.app[STORE], site, clock)
    await client.app[STORE].add_contact(Contact(id=0, site_id=site.id, first_name="Dan", last_name="Last",
                                                phone="+15550100004", auto_notify=True, created_at=clock.now()))
    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    await _step(client, clock, 60)
    messages = _to(await outbox(client))
    assert messages[0] == A and sorted(messages[1:]) == [B, C, "+15550100004"]  # at once, together


async def test_a_contact_deleted_mid_list_is_stepped_over(client, auth, site, clock, partner):
    carol, alice, bob = await _people(client.app[STORE], site, clock)
    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    resp = await client.delete(f"/partner/v1/dealers/{site.dealer_id}/sites/{site.id}/contacts/{bob.id}",
                               headers=partner)
    assert resp.status == 204
    await _step(client, clock, 60)
    assert _to(await outbox(client)) == [A, C]  # Bob's step is gone: Carol in his place, on time


async def test_with_two_alarms_open_each_steps_text_carries_its_own_reference(client, auth, site, clock):
    await _people(client.app[STORE], site, clock)
    first = await post_alarm(client, auth, site.id, "BA", event_id="evt_1", zone="1", text="Door")
    await deliver(client)
    await _step(client, clock, 60)  # Bob reached for the first alarm
    clock.advance(1)
    second = await post_alarm(client, auth, site.id, "BA", event_id="evt_2", zone="2", text="Window")
    await deliver(client)
    texts = await outbox(client)
    assert [m["to"] for m in texts] == [A, B, A]
    assert "Another alarm is open: reply YES 2 or NO 2 for this one." in texts[2]["body"]  # step 1, in the commit
    await _step(client, clock, 60)  # Carol for the first alarm, Bob for the second
    bob = [m for m in (await outbox(client))[3:] if m["to"] == B]
    assert len(bob) == 1 and "Another alarm is open: reply YES 2 or NO 2 for this one." in bob[0]["body"]

    answer = await text(client, B, "YES 2")  # the second alarm's, by its reference
    assert answer["replies"][0].startswith("Thanks Bob: confirmed.")
    one = await _verification(client, auth, first["verifications"][0]["verification_id"])
    two = await _verification(client, auth, second["verifications"][0]["verification_id"])
    assert (one["status"], two["status"], two["response"]) == ("sent", "responded", "confirmed")


async def test_a_reference_taken_while_a_step_was_decided_writes_nothing_and_the_next_pass_reaches_it(
        client, auth, site, clock, monkeypatch):
    import gateway.core.call_list as call_list_module

    await _people(client.app[STORE], site, clock)
    await post_alarm(client, auth, site.id, "BA", event_id="evt_1", zone="1", text="Door")
    await deliver(client)
    await _step(client, clock, 60)  # Bob holds reference 1 for the first alarm
    clock.advance(1)
    await post_alarm(client, auth, site.id, "BA", event_id="evt_2", zone="2", text="Window")
    await deliver(client)
    real = call_list_module.give_refs

    def stale(held, phones, verification, now):  # as if decided from a read before alarm 1 took 1 for Bob
        hold, shown = real(held, phones, verification, now)
        return [msgspec.structs.replace(r, ref=1) for r in hold], {p: 1 for p in shown}

    monkeypatch.setattr(call_list_module, "give_refs", stale)
    before = len(await outbox(client))
    await _step(client, clock, 60)  # Bob is due for the second alarm: his reference is taken
    sent = [m for m in (await outbox(client))[before:] if m["to"] == B]
    assert sent == []  # nothing of that step written
    monkeypatch.setattr(call_list_module, "give_refs", real)
    await _step(client, clock, 0)  # the next pass reads the references anew
    [bob] = [m for m in (await outbox(client))[before:] if m["to"] == B]
    assert "reply YES 2 or NO 2 for this one." in bob["body"]
