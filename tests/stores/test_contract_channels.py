"""The call and push methods' records on both engines: a contact's language, the loopback carrier's calls,
push subscriptions."""

from __future__ import annotations

from datetime import timedelta

from gateway.model import Decision
from tests.stores.conftest import text_for, verification

LEASE = timedelta(seconds=60)


async def test_a_contacts_language(store, site, contact, clock):
    import msgspec

    from gateway.model import Contact

    assert (await store.get_contact(contact.id)).language is None
    await store.update_contact(msgspec.structs.replace(contact, language="es-MX"), reset_welcome=False)
    assert (await store.get_contact(contact.id)).language == "es-MX"
    other = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Ann", last_name="Lee",
                                            language="fr-CA", created_at=clock.now()))
    assert [c.language for c in await store.list_contacts(contact.site_id)] == ["es-MX", "fr-CA"]
    assert other.language == "fr-CA"


async def test_a_placed_call_is_found_by_its_carrier_id_and_as_a_loopback_call(store, site, contact, clock):
    v = verification(site, [contact], clock)
    await store.commit(Decision(opened=[v], outbound=[text_for(v, contact, body="Alarm.", channel="call")]))
    [item] = await store.claim_outbound(clock.now(), clock.now() + LEASE, 10)
    assert item.channel == "call" and item.carrier is None
    call_id = await store.record_loopback(item, clock.now())
    await store.outbound_sent(item, "loopback", f"LB{call_id:010d}", clock.now())
    found, status = await store.outbound_by_carrier_id("loopback", f"LB{call_id:010d}")
    assert (found.id, found.channel, found.carrier, found.carrier_message_id, status) == (
        item.id, "call", "loopback", f"LB{call_id:010d}", "sent")
    assert await store.outbound_by_carrier_id("loopback", "LB-none") is None
    row = await store.loopback_call(call_id)
    assert (row["outbound_status"], row["body"], row["carrier_message_id"]) == ("sent", "Alarm.", f"LB{call_id:010d}")
    [listed] = await store.loopback_messages(to_phone=None, after=0, limit=10)
    assert listed["kind"] == "call"


async def test_a_text_is_no_loopback_call(store, site, contact, clock):
    v = verification(site, [contact], clock)
    await store.commit(Decision(opened=[v], outbound=[text_for(v, contact)]))
    [item] = await store.claim_outbound(clock.now(), clock.now() + LEASE, 10)
    text_id = await store.record_loopback(item, clock.now())
    assert await store.loopback_call(text_id) is None
    assert (await store.loopback_messages(to_phone=None, after=0, limit=10))[0]["kind"] == "sms"


async def test_push_subscriptions_one_endpoint_one_contact(store, site, contact, clock):
    from gateway.model import Contact

    other = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Ann", last_name="Lee",
                                            created_at=clock.now()))
    await store.save_push_subscription(contact.id, "https://push.example/a", "P1", "A1", clock.now())
    await store.save_push_subscription(contact.id, "https://push.example/b", "P2", "A2", clock.now())
    assert [s["endpoint"] for s in await store.push_subscriptions(contact.id)] == [
        "https://push.example/a", "https://push.example/b"]
    # the browser of /a now belongs to another contact (signed in on the welcome page of theirs), with new keys
    await store.save_push_subscription(other.id, "https://push.example/a", "P3", "A3", clock.now())
    assert [s["endpoint"] for s in await store.push_subscriptions(contact.id)] == ["https://push.example/b"]
    [moved] = await store.push_subscriptions(other.id)
    assert (moved["p256dh"], moved["auth"]) == ("P3", "A3")
    await store.delete_push_subscription("https://push.example/b")
    assert await store.push_subscriptions(contact.id) == []
