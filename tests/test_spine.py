"""The spine through the HTTP surface: alarm → verification text → reply → event log."""

from __future__ import annotations

import pytest

from gateway.model import Contact
from gateway.web.appkeys import EXPIRY, STORE
from tests import storage
from tests.conftest import OTHER_PHONE, PHONE
from tests.helpers import codes, deliver, event_log, outbox, post_alarm, text


async def test_alarm_sends_verification_text_and_logs_it(client, auth, site, contact):
    data = await post_alarm(client, auth, site.id, "BA", zone="3", text="Motion, hallway", event_id="evt_1")
    assert [v["process"] for v in data["verifications"]] == ["burglary-verification"]
    assert data["verifications"][0]["sent_to"] == [
        {"contact_id": contact.id, "name": "John Doe", "channel": "sms", "phone": PHONE, "status": "pending",
         "error": None, "response": None, "responded_at": None}]
    assert await deliver(client) == 1
    [sent] = await outbox(client, to=PHONE)
    # 15:30 UTC is 10:30 in New York, the site's zone
    assert sent["body"] == ("Acme Monitoring: ALARM at Main Office: Motion, hallway zone 3 at 10:30 EST. "
                            "Reply YES to confirm (police will be requested) or NO to cancel.")
    rows = await event_log(client, auth, site.id)
    assert codes(rows) == ["BA", "SMSSENT"]
    assert rows[1]["comment"] == sent["body"]
    assert rows[1]["contact_id"] == contact.id and rows[1]["event_id"] == "evt_1"
    verification = await client.app[STORE].get_verification(data["verifications"][0]["verification_id"])
    assert verification.status == "sent" and verification.recipients[0].status == "sent"


@pytest.mark.parametrize("reply", ["yes", "Yes!", " YES ", "y", "Confirm."])
async def test_yes_confirms(client, auth, site, contact, reply):
    data = await post_alarm(client, auth, site.id, "BA", text="Motion")
    answer = await text(client, PHONE, reply)
    assert answer["replies"] == ["Thank you John. Alarm at Main Office CONFIRMED. Police are being requested."]
    rows = await event_log(client, auth, site.id)
    assert codes(rows)[-1] == "SMSYES" and rows[-1]["comment"] == reply
    verification = await client.app[STORE].get_verification(data["verifications"][0]["verification_id"])
    assert (verification.status, verification.response, verification.responded_by) == ("responded", "confirmed",
                                                                                      contact.id)


@pytest.mark.parametrize("reply", ["NO", "cancel", "n"])
async def test_no_cancels(client, auth, site, contact, reply):
    data = await post_alarm(client, auth, site.id, "BA")
    answer = await text(client, PHONE, reply)
    assert "CANCELLED" in answer["replies"][0]
    verification = await client.app[STORE].get_verification(data["verifications"][0]["verification_id"])
    assert verification.response == "cancelled"
    assert codes(await event_log(client, auth, site.id))[-1] == "SMSNO"


async def test_unmatched_reply_logs_response_code_with_text(client, auth, site, contact):
    await post_alarm(client, auth, site.id, "BA")
    answer = await text(client, PHONE, "who is this?")
    assert answer["replies"] == []
    row = (await event_log(client, auth, site.id))[-1]
    assert (row["code"], row["comment"]) == ("SMSReply", "who is this?")
    assert row["verification_id"] is not None


async def test_reply_after_timeout_is_an_ordinary_message(client, auth, site, contact, clock):
    await post_alarm(client, auth, site.id, "BA")
    clock.advance(301)
    answer = await text(client, PHONE, "YES")
    assert answer["replies"] == []
    row = (await event_log(client, auth, site.id))[-1]
    assert (row["code"], row["comment"], row["verification_id"]) == ("SMSIN", "YES", None)


async def test_expiry_loop_logs_timeout(client, auth, site, contact, clock):
    data = await post_alarm(client, auth, site.id, "BA")
    assert await client.app[EXPIRY].run_once() == []
    clock.advance(300)
    [expired] = await client.app[EXPIRY].run_once()
    assert expired.id == data["verifications"][0]["verification_id"]
    assert codes(await event_log(client, auth, site.id))[-1] == "SMSTIMEOUT"
    assert (await client.app[STORE].get_verification(expired.id)).status == "expired"


async def test_reply_with_pin_logs_pin_response_and_masks_it(client, auth, site, contact, store, config):
    from gateway.auth.hashes import hash_secret

    await store.set_pin(contact.id, hash_secret("48213579"), None)  # 8 digits: never in a random id by chance
    await post_alarm(client, auth, site.id, "BA")
    answer = await text(client, PHONE, "YES 48213579")
    assert "CONFIRMED" in answer["replies"][0]
    rows = await event_log(client, auth, site.id)
    assert codes(rows)[-2:] == ["SMSYES", "SMSPINReply"]
    assert all(r["comment"] == "YES ****" for r in rows[-2:])
    await text(client, PHONE, "anything 48213579")  # no open verification now: still masked
    assert "48213579" not in storage.dump_text(config.database.url)


async def test_unmatched_reply_with_pin_logs_pin_response_code(client, auth, site, contact, store):
    from gateway.auth.hashes import hash_secret

    await store.set_pin(contact.id, hash_secret("4821"), None)
    await post_alarm(client, auth, site.id, "BA")
    await text(client, PHONE, "on my way 4821")
    row = (await event_log(client, auth, site.id))[-1]
    assert (row["code"], row["comment"]) == ("SMSPINReply", "on my way ****")
    await text(client, PHONE, "on my way 1111")  # a wrong PIN: an ordinary response, masked all the same
    row = (await event_log(client, auth, site.id))[-1]
    assert (row["code"], row["comment"]) == ("SMSReply", "on my way ****")


async def test_same_message_id_twice_logs_once_and_replies_once(client, auth, site, contact):
    await post_alarm(client, auth, site.id, "BA")
    first = await text(client, PHONE, "YES", message_id="SMdup")
    second = await text(client, PHONE, "YES", message_id="SMdup")
    assert len(first["replies"]) == 1 and second == {"message_id": "SMdup", "replies": [], "duplicate": True}
    assert codes(await event_log(client, auth, site.id)).count("SMSYES") == 1


async def test_same_event_id_twice_sends_once(client, auth, site, contact):
    first = await post_alarm(client, auth, site.id, "BA", event_id="evt_9")
    second = await post_alarm(client, auth, site.id, "BA", event_id="evt_9")
    assert not first["duplicate"] and second["duplicate"] and second["verifications"] == []
    assert await deliver(client) == 1


async def test_unknown_number_gets_catch_all(client, auth, site, contact):
    answer = await text(client, "+15557770000", "hello")
    assert answer["replies"] == []
    [row] = [r for r in await event_log(client, auth) if r["phone"] == "+15557770000"]
    assert (row["code"], row["comment"], row["site_id"]) == ("SMSUNKNOWN", "hello", None)


async def test_alarm_goes_only_to_auto_notify_contacts_with_phones(client, auth, site, contact, store, clock):
    await store.add_contact(Contact(id=0, site_id=site.id, first_name="Mary", last_name="Roe", phone=OTHER_PHONE,
                                    auto_notify=False, created_at=clock.now()))
    data = await post_alarm(client, auth, site.id, "BA")
    assert [r["contact_id"] for r in data["verifications"][0]["sent_to"]] == [contact.id]


async def test_code_no_process_handles_is_logged(client, auth, site, contact):
    data = await post_alarm(client, auth, site.id, "ZZ", text="tamper")
    assert data["verifications"] == [] and data["logged"] == ["ZZ", "SMSNOPROC"]
    assert await deliver(client) == 0


async def test_site_without_recipients_is_logged(client, auth, site):
    data = await post_alarm(client, auth, site.id, "BA")
    assert data["logged"] == ["BA", "SMSNOREC"]


async def test_fire_and_burglary_processes_are_separate(client, auth, site, contact):
    await post_alarm(client, auth, site.id, "FA", text="Smoke, kitchen")
    answer = await text(client, PHONE, "safe")
    assert codes(await event_log(client, auth, site.id))[-1] != "SMSReply"
    assert answer["replies"]


async def test_event_log_pages_with_cursor(client, auth, site, contact):
    for n in range(3):
        await post_alarm(client, auth, site.id, "BA", event_id=f"evt_{n}")
    everything = await event_log(client, auth, site.id)
    assert len(everything) == 6 and [r["id"] for r in everything] == sorted(r["id"] for r in everything)
    resp = await client.get("/ext/v1/event-log", params={"site_id": site.id, "limit": 4}, headers=auth)
    page = await resp.json()
    assert len(page["data"]) == 4 and page["has_more"]
    rest = await event_log(client, auth, site.id, after=page["next_after"])
    assert page["data"] + rest == everything


async def test_one_answer_settles_every_process_of_the_alarm(client, auth, site, contact, store, tmp_path, config):
    from gateway.services.keyword_holder import KeywordFile
    from gateway.web.appkeys import KEYWORDS
    from tests.conftest import KEYWORDS as SHIPPED

    doubled = tmp_path / "keywords.yaml"
    text_ = SHIPPED.read_text().replace("triggers: [FA, PA, HA]", "triggers: [FA, PA, HA, BA]")
    doubled.write_text(text_)
    keywords: KeywordFile = client.app[KEYWORDS]
    keywords.path = doubled
    assert keywords.reload()
    data = await post_alarm(client, auth, site.id, "BA")
    assert len(data["verifications"]) == 2
    answer = await text(client, PHONE, "YES")
    assert len(answer["replies"]) == 1
    for v in data["verifications"]:
        assert (await store.get_verification(v["verification_id"])).response == "confirmed"
