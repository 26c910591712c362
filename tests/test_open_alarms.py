"""Several open alarms for one contact, through the HTTP surface: the alarm API, the loopback carrier's inbound
webhook and outbox, the event log. The clock is moved, never slept."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gateway.auth.hashes import hash_secret
from gateway.model import Contact, Site
from tests.conftest import OTHER_PHONE, PHONE
from tests.helpers import codes, deliver, event_log, outbox, post_alarm, text

PIN = "4821"
CONFIRMED_MAIN = "Thank you John. Alarm at Main Office CONFIRMED. Police are being requested."


@pytest.fixture
async def warehouse(store, clock) -> Site:
    return await store.add_site(Site(id="site_wh", dealer_id="12345", name="Warehouse", time_zone="America/New_York",
                                     created_at=clock.now()))


@pytest.fixture
async def john_at_warehouse(store, warehouse, clock) -> Contact:
    """John again, at the second site: the same phone."""
    return await store.add_contact(Contact(id=0, site_id=warehouse.id, first_name="John", last_name="Doe",
                                           phone=PHONE, auto_notify=True, created_at=clock.now()))


async def bodies(client) -> list[str]:
    await deliver(client)
    return [m["body"] for m in await outbox(client, to=PHONE)]


async def status(store, data) -> str | None:
    """The verification's response: None while it waits for one."""
    return (await store.get_verification(data["verifications"][0]["verification_id"])).response


async def test_one_open_alarm_texts_and_replies_exactly_as_before(client, auth, site, contact):
    await post_alarm(client, auth, site.id, "BA", zone="3", text="Motion, hallway")
    [body] = await bodies(client)
    assert body.endswith("Reply YES to confirm (police will be requested) or NO to cancel.")
    assert (await text(client, PHONE, "YES"))["replies"] == [CONFIRMED_MAIN]
    row = (await event_log(client, auth, site.id))[-1]
    assert row["code"] == "SMSYES" and "ref" not in row["details"]


async def test_two_sites_the_second_text_carries_its_reference_and_a_bare_yes_names_what_it_answered(
        client, auth, store, site, contact, warehouse, john_at_warehouse, clock):
    main = await post_alarm(client, auth, site.id, "BA", zone="3", text="Motion, hallway")
    clock.advance(30)
    wh = await post_alarm(client, auth, warehouse.id, "BA", zone="1", text="Door")
    first, second = await bodies(client)
    assert "Another alarm" not in first  # it was alone when sent
    assert second.endswith("or NO to cancel. Another alarm is open: reply YES 2 or NO 2 for this one.")
    answer = await text(client, PHONE, "yes")
    assert answer["replies"] == ["Thank you John. Alarm at Warehouse CONFIRMED. Police are being requested."
                                 " (alarm 2: Warehouse, BA zone 1, Door)"]
    assert await status(store, wh) == "confirmed" and await status(store, main) is None
    row = (await event_log(client, auth, warehouse.id))[-1]
    assert (row["code"], row["verification_id"], row["contact_id"]) == (
        "SMSYES", wh["verifications"][0]["verification_id"], john_at_warehouse.id)
    assert row["details"] == {"keyword": "YES", "outcome": "confirm", "ref": 2, "chosen_by": "newest"}
    # The first one still open: its reference answers it, although its text never showed it.
    answer = await text(client, PHONE, "NO 1")  # a reply to a reference names what it answered, always
    assert answer["replies"] == ["Thank you John. Alarm at Main Office CANCELLED. No dispatch will be made."
                                 " (alarm 1: Main Office, BA zone 3, Motion, hallway)"]
    assert await status(store, main) == "cancelled"
    row = (await event_log(client, auth, site.id))[-1]
    assert (row["code"], row["verification_id"]) == ("SMSNO", main["verifications"][0]["verification_id"])
    assert row["details"]["ref"] == 1 and row["details"]["chosen_by"] == "ref"


async def test_two_alarms_on_one_site_a_reference_answers_the_older_one(client, auth, store, site, contact, clock):
    first = await post_alarm(client, auth, site.id, "BA", zone="3", text="Motion, hallway")
    clock.advance(10)
    second = await post_alarm(client, auth, site.id, "BG", zone="7", text="Glass break")
    assert (await bodies(client))[1].endswith("Another alarm is open: reply YES 2 or NO 2 for this one.")
    answer = await text(client, PHONE, "Yes #1")
    assert answer["replies"] == [CONFIRMED_MAIN + " (alarm 1: Main Office, BA zone 3, Motion, hallway)"]
    assert await status(store, first) == "confirmed" and await status(store, second) is None
    # With alarm 1 answered, alarm 2 is the only one open: a bare NO answers it, no reference needed.
    answer = await text(client, PHONE, "no")
    assert answer["replies"] == ["Thank you John. Alarm at Main Office CANCELLED. No dispatch will be made."]
    assert await status(store, second) == "cancelled"


async def test_a_wrong_reference_is_told_what_is_open_and_changes_nothing(
        client, auth, store, site, contact, warehouse, john_at_warehouse, clock):
    main = await post_alarm(client, auth, site.id, "BA", zone="3", text="Motion, hallway")
    wh = await post_alarm(client, auth, warehouse.id, "FA", zone="2", text="Smoke")
    answer = await text(client, PHONE, "YES 7")
    assert answer["replies"] == [
        "No open alarm has the reference 7. Nothing was changed. Still open: reply YES 1 or NO 1 for Main Office, "
        "BA zone 3, Motion, hallway; YES 2 or SAFE 2 for Warehouse, FA zone 2, Smoke."]
    assert await status(store, main) is None and await status(store, wh) is None
    row = (await event_log(client, auth))[-1]
    assert (row["code"], row["comment"], row["verification_id"]) == ("SMSWHICH", "YES 7", None)
    assert row["details"] == {"reason": "unknown_ref", "ref": 7, "open_refs": [1, 2]}


async def test_an_expired_alarm_is_not_counted(client, auth, store, site, contact, warehouse, john_at_warehouse,
                                               clock):
    await post_alarm(client, auth, site.id, "BA", zone="3", text="Motion, hallway")
    await deliver(client)
    clock.advance(301)  # the first one timed out, unanswered
    wh = await post_alarm(client, auth, warehouse.id, "BA", zone="1", text="Door")
    first, second = await bodies(client)
    assert "Another alarm" not in second  # one open alarm: the text is the template's
    answer = await text(client, PHONE, "YES")
    assert answer["replies"] == ["Thank you John. Alarm at Warehouse CONFIRMED. Police are being requested."]
    assert await status(store, wh) == "confirmed"
    # Its reference (2: the expired one still holds 1 for an hour) answers it all the same; the expired one's is
    # told it is no longer open.
    answer = await text(client, PHONE, "YES 1")
    assert answer["replies"][0].startswith("No open alarm has the reference 1. Nothing was changed.")


async def test_the_newest_times_out_between_the_text_and_a_bare_reply_nothing_is_guessed(
        client, auth, store, site, contact, warehouse, john_at_warehouse, clock):
    main = await post_alarm(client, auth, site.id, "BA", zone="3", text="Motion, hallway")  # 300 s
    clock.advance(10)
    await post_alarm(client, auth, warehouse.id, "FA", zone="2", text="Smoke")  # 120 s
    clock.advance(121)  # the fire alarm, the newest, timed out; the burglary is still open
    answer = await text(client, PHONE, "YES")  # meant for the fire alarm? the burglary? ask
    assert answer["replies"] == [
        "Alarm 2 (Warehouse, FA zone 2, Smoke) is no longer open. Nothing was changed. Still open: reply YES 1 or "
        "NO 1 for Main Office, BA zone 3, Motion, hallway."]
    assert await status(store, main) is None
    row = (await event_log(client, auth, site.id))[-1]
    assert row["code"] == "SMSWHICH" and row["details"]["reason"] == "newest_closed"
    answer = await text(client, PHONE, "YES 1")
    assert answer["replies"] == [CONFIRMED_MAIN + " (alarm 1: Main Office, BA zone 3, Motion, hallway)"]
    assert await status(store, main) == "confirmed"


async def test_the_newest_answered_by_another_contact_between_the_text_and_the_reply(
        client, auth, store, site, contact, warehouse, john_at_warehouse, clock):
    jane = await store.add_contact(Contact(id=0, site_id=warehouse.id, first_name="Jane", last_name="Roe",
                                           phone=OTHER_PHONE, auto_notify=True, created_at=clock.now()))
    main = await post_alarm(client, auth, site.id, "BA", zone="3", text="Motion, hallway")
    clock.advance(10)
    wh = await post_alarm(client, auth, warehouse.id, "BA", zone="1", text="Door")
    await text(client, OTHER_PHONE, "NO")  # Jane cancels the warehouse alarm first
    answer = await text(client, PHONE, "YES")
    assert answer["replies"] == [
        "The alarm at Warehouse was already cancelled by Jane Roe. (alarm 2: Warehouse, BA zone 1, Door) "
        "Still open: reply YES 1 or NO 1 for Main Office, BA zone 3, Motion, hallway."]
    assert await status(store, wh) == "cancelled" and await status(store, main) is None
    # Naming it changes nothing either: alarm 2 was answered; alarm 1 still waits.
    answer = await text(client, PHONE, "YES 2")
    assert answer["replies"][0].startswith("The alarm at Warehouse was already cancelled by Jane Roe.")
    assert await status(store, wh) == "cancelled" and await status(store, main) is None
    assert jane.id != john_at_warehouse.id


async def test_a_reference_with_the_pin_answers_that_alarm_and_logs_the_pin_response(
        client, auth, store, site, contact, warehouse, john_at_warehouse, clock):
    await store.set_pin(contact.id, hash_secret(PIN), clock.now() + timedelta(days=365))
    main = await post_alarm(client, auth, site.id, "BA", zone="3", text="Motion, hallway")
    clock.advance(10)
    wh = await post_alarm(client, auth, warehouse.id, "BA", zone="1", text="Door")
    answer = await text(client, PHONE, f"NO 1 {PIN}")
    assert answer["replies"] == ["Thank you John. Alarm at Main Office CANCELLED. No dispatch will be made."
                                 " (alarm 1: Main Office, BA zone 3, Motion, hallway)"]
    assert await status(store, main) == "cancelled" and await status(store, wh) is None
    rows = [r for r in await event_log(client, auth, site.id) if r["code"] in ("SMSNO", "SMSPINReply")]
    assert [(r["code"], r["comment"], r["details"]["ref"]) for r in rows] == [("SMSNO", "NO 1 ****", 1),
                                                                              ("SMSPINReply", "NO 1 ****", 1)]


async def test_interface_commands_with_a_number_still_reach_the_interface(
        client, auth, store, site, contact, warehouse, john_at_warehouse, clock):
    await store.set_pin(contact.id, hash_secret(PIN), clock.now() + timedelta(days=365))
    await post_alarm(client, auth, site.id, "BA")
    await post_alarm(client, auth, warehouse.id, "BA")
    answer = await text(client, PHONE, "EVENTS 1 3")
    assert answer["replies"] == ["Send your PIN to run EVENTS."]


async def test_two_alarms_decided_at_once_never_share_a_reference(client, auth, store, site, contact, warehouse,
                                                                  john_at_warehouse, monkeypatch, caplog):
    """The second alarm decides from a snapshot taken before the first committed (as when both arrive at once):
    the store refuses its reference, and it is decided again from what is held now."""
    before = await store.reply_refs([PHONE], store.clock.now())
    real = store.reply_refs
    reads = []

    async def stale_once(phones, now):
        reads.append(phones)
        return before if len(reads) == 1 else await real(phones, now)

    await post_alarm(client, auth, site.id, "BA", event_id="evt_a")
    monkeypatch.setattr(store, "reply_refs", stale_once)
    with caplog.at_level("INFO", logger="gateway.services.fresh"):
        await post_alarm(client, auth, warehouse.id, "BA", event_id="evt_b")
    assert len(reads) == 2 and "reply reference 1 of +15550123456 is taken; deciding again" in caplog.text
    held = (await real([PHONE], store.clock.now()))[PHONE]
    assert sorted((h.ref, h.alarm_key) for h in held) == [(1, "evt_a"), (2, "evt_b")]
    first, second = await bodies(client)
    assert "Another alarm" not in first and second.endswith("reply YES 2 or NO 2 for this one.")
    assert codes(await event_log(client, auth, warehouse.id)) == ["BA", "SMSSENT"]  # one decision stood, once


async def test_a_verification_of_the_api_takes_a_reference_too(client, auth, store, site, contact, warehouse,
                                                              john_at_warehouse, clock):
    main = await post_alarm(client, auth, site.id, "BA", zone="3", text="Motion, hallway")
    clock.advance(5)
    resp = await client.post("/ext/v1/verifications", headers=auth, json={
        "site_id": warehouse.id, "contacts": [john_at_warehouse.id], "method": "sms",
        "message": "Please check the warehouse door. Reply YES or NO."})
    assert resp.status == 200, await resp.text()
    api = (await resp.json())["data"]
    first, second = await bodies(client)
    assert second == ("Please check the warehouse door. Reply YES or NO. Another alarm is open: reply YES 2 or NO 2 "
                      "for this one.")
    answer = await text(client, PHONE, "yes 1")
    assert answer["replies"] == [CONFIRMED_MAIN + " (alarm 1: Main Office, BA zone 3, Motion, hallway)"]
    assert await status(store, main) == "confirmed"
    assert (await store.get_verification(api["verification_id"])).response is None
    # A verification of the API about an alarm the phone holds takes that alarm's reference.
    resp = await client.post(f"/ext/v1/events/{main['event_id']}/verifications", headers=auth,
                             json={"contacts": [contact.id], "method": "sms", "message": "Is all well?"})
    assert resp.status == 200
    again = (await resp.json())["data"]
    assert (await bodies(client))[-1] == "Is all well? Another alarm is open: reply YES 1 or NO 1 for this one."
    await text(client, PHONE, "no 1")
    assert (await store.get_verification(again["verification_id"])).response == "cancelled"
    assert (await store.get_verification(api["verification_id"])).response is None


async def test_a_burst_of_alarms_for_one_contact_gives_each_its_own_reference(client, auth, store, site, contact):
    """Twenty alarms for one site posted at once (after a first): each is taken (none refused after racing its neighbours for the
    same reference), and each text answers by a reference of its own."""
    await post_alarm(client, auth, site.id, "BA", event_id="evt_burst_first")  # the key is checked once, then known
    posted = await asyncio.gather(*(client.post("/ext/v1/events", headers=auth, json={
        "site_id": site.id, "event_code": "BA", "event_id": f"evt_burst_{n}", "text": "burst"}) for n in range(20)))
    assert [r.status for r in posted] == [201] * 20, [await r.text() for r in posted if r.status != 201]
    refs = [ref.ref for refs in (await store.reply_refs([PHONE], store.clock.now())).values() for ref in refs]
    assert sorted(refs) == list(range(1, 22))
