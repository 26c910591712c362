"""API keys, partner contacts, welcome texts, OAuth clients and tokens, opt-outs and number lookups
on both engines."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from gateway.errors import DuplicateKey
from gateway.model import Contact, Decision, InterfaceState, LogEntry, Notification, OutboundMessage, PhoneLookup
from gateway.stores import OAuthClient
from tests.conftest import OTHER_PHONE, PHONE
from tests.stores.conftest import open_verification


async def test_api_keys_are_stored_by_hash_and_revoked_once(store, clock):
    await store.add_api_key("k1", "automation", "$argon2id$k1", clock.now())
    assert await store.api_key_hash("k1") == "$argon2id$k1"
    assert await store.api_key_hash("k2") is None
    clock.advance(5)
    assert await store.revoke_api_key("k1", clock.now()) is True
    assert await store.revoke_api_key("k1", clock.now()) is False
    assert await store.api_key_hash("k1") is None
    assert await store.api_keys() == [{"id": "k1", "name": "automation", "created_at": clock.now() - timedelta(seconds=5),
                                       "revoked_at": clock.now()}]


async def test_contacts_created_and_updated_refuse_a_duplicate_external_id(store, site, clock):
    a = await store.create_contact(Contact(id=0, site_id=site.id, first_name="A", last_name="A", phone=PHONE,
                                           external_contact_id="x1", created_at=clock.now()))
    b = await store.create_contact(Contact(id=0, site_id=site.id, first_name="B", last_name="B", phone=OTHER_PHONE,
                                           external_contact_id="x2", created_at=clock.now()))
    with pytest.raises(DuplicateKey):
        await store.create_contact(Contact(id=0, site_id=site.id, first_name="C", last_name="C", external_contact_id="x1",
                                           created_at=clock.now()))
    with pytest.raises(DuplicateKey):
        await store.update_contact(msgspec.structs.replace(b, external_contact_id="x1"))
    await store.save_lookup(PhoneLookup(phone=PHONE, valid=True, line_type="mobile", looked_up_at=clock.now()))
    same = await store.update_contact(msgspec.structs.replace(await store.get_contact(a.id), title="Owner"))
    assert (same.title, same.phone_status, same.line_type) == ("Owner", "valid", "mobile")
    moved = await store.update_contact(msgspec.structs.replace(same, phone="+15550007777", auto_notify=True))
    assert (moved.phone, moved.auto_notify, moved.phone_status, moved.line_type) == (
        "+15550007777", True, "unknown", None)  # a new number has not been looked up


async def test_deleting_a_contact_takes_it_out_of_everything_open(store, site, contact, clock):
    other = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Bo", last_name="Ng", phone=OTHER_PHONE,
                                            created_at=clock.now()))
    v = await open_verification(store, site, [contact, other], clock)
    await store.add_response_token("t" * 64, v.id, contact.id, clock.now() + timedelta(hours=1))
    await store.commit(Decision(interface_state=InterfaceState(phone=PHONE, session_contact_id=contact.id,
                                                               session_expires_at=clock.now() + timedelta(hours=1))))
    remaining = await store.delete_contact(contact, clock.now(), lambda n: [
        LogEntry(code="CONTACTDEL", at=clock.now(), site_id=site.id, details={"remaining_contacts": n})])
    assert remaining == 1
    assert await store.get_contact(contact.id) is None
    recipient = next(r for r in (await store.get_verification(v.id)).recipients if r.contact_id == contact.id)
    assert (recipient.status, recipient.phone) == ("removed", None)
    assert (await store.response_token("t" * 64))["expires_at"] <= clock.now()
    assert (await store.inbound_view(PHONE, clock.now())).state.session_contact_id is None
    assert [m.contact_id for m in await store.claim_outbound(clock.now(), clock.now(), 10)] == [other.id]
    [row] = await store.event_log(site_id=site.id, after=0, limit=10)
    assert row.details == {"remaining_contacts": 1}


async def test_the_welcome_text_and_its_confirmation(store, site, contact, clock):
    assert await store.get_welcome(contact.id) is None
    text = OutboundMessage(to_phone=PHONE, body="Welcome {link}", kind="welcome", priority=10, site_id=site.id,
                           contact_id=contact.id)
    expires = clock.now() + timedelta(days=14)
    await store.start_welcome(contact.id, "h1", expires, text, [LogEntry(code="WELCOMESENT", at=clock.now())],
                              clock.now())
    welcome = await store.get_welcome(contact.id)
    assert (welcome.state, welcome.token_expires_at, welcome.sent_at) == ("pending", expires, clock.now())
    assert [m.kind for m in await store.claim_outbound(clock.now(), clock.now(), 10)] == ["welcome"]
    assert await store.set_welcome_token(contact.id, "h2", expires, clock.now()) is True
    assert await store.welcome_by_token("h1", clock.now()) is None  # the earlier link stops working
    assert (await store.welcome_by_token("h2", clock.now())).contact_id == contact.id
    assert await store.welcome_by_token("h2", expires) is None
    assert await store.site_welcomes(site.id) == {contact.id: await store.get_welcome(contact.id)}
    confirmed = [LogEntry(code="WELCOMECONF", at=clock.now())]
    note = [Notification(event_type="contact.confirmed", at=clock.now(), data={"contact_id": contact.id})]
    assert await store.confirm_welcome(contact.id, clock.now(), confirmed, note) is True
    assert await store.confirm_welcome(contact.id, clock.now(), confirmed, note) is False
    assert await store.welcome_send_failed(contact.id, "refused", clock.now()) is False  # not pending
    assert await store.set_welcome_token(contact.id, "h3", expires, clock.now()) is False
    assert (await store.get_welcome(contact.id)).confirmed_at == clock.now()
    assert [r.code for r in await store.event_log(site_id=None, after=0, limit=10)] == ["WELCOMESENT", "WELCOMECONF"]
    assert await store.fan_out_webhook_events(clock.now(), lambda kind, at: [kind], 10) == 1


async def test_a_welcome_that_cannot_be_sent_and_a_reset(store, site, contact, clock):
    text = OutboundMessage(to_phone=PHONE, body="Welcome", kind="welcome", contact_id=contact.id)
    await store.start_welcome(contact.id, None, None, text, [], clock.now())
    assert await store.welcome_send_failed(contact.id, "opted out", clock.now()) is True
    assert ((w := await store.get_welcome(contact.id)).state, w.send_error) == ("send_error", "opted out")
    await store.update_contact(contact, reset_welcome=True)
    assert await store.get_welcome(contact.id) is None


async def test_oauth_clients_and_their_tokens(store, clock):
    client = OAuthClient(client_id="acme", dealer_id="12345", secret_hash="$argon2id$c", name="Acme",
                         created_at=clock.now())
    await store.add_oauth_client(client)
    assert await store.oauth_client("acme") == client
    assert await store.oauth_client("nope") is None
    expires = clock.now() + timedelta(hours=1)
    await store.add_oauth_token("tok1", "acme", "12345", clock.now(), expires)
    await store.add_oauth_token("tok_file", "from-file", "777", clock.now(), clock.now() + timedelta(seconds=1))
    grant = await store.oauth_token("tok1")
    assert (grant.client_id, grant.dealer_id, grant.expires_at, grant.client_stored, grant.client_revoked) == (
        "acme", "12345", expires, True, False)
    assert (await store.oauth_token("tok_file")).client_stored is False
    clock.advance(2)
    await store.add_oauth_token("tok2", "acme", "12345", clock.now(), expires)  # forgets the expired ones
    assert await store.oauth_token("tok_file") is None
    assert await store.revoke_oauth_client("acme", clock.now()) is True
    assert await store.revoke_oauth_client("acme", clock.now()) is False
    assert await store.oauth_token("tok1") is None and await store.oauth_client("acme") is None
    assert await store.oauth_clients() == [(client, clock.now())]


async def test_opt_outs_log_only_a_change(store, clock):
    assert await store.opted_out(PHONE) is False
    stop = [LogEntry(code="SMSOPTOUT", at=clock.now(), phone=PHONE)]
    assert await store.set_opt_out(PHONE, True, "STOP", clock.now(), stop) is True
    assert await store.set_opt_out(PHONE, True, "21610", clock.now(), stop) is False
    assert await store.opted_out(PHONE) is True
    assert await store.set_opt_out(PHONE, False, "START", clock.now(), [LogEntry(code="SMSOPTIN", at=clock.now())])
    assert await store.opted_out(PHONE) is False
    assert [r.code for r in await store.event_log(site_id=None, after=0, limit=10)] == ["SMSOPTOUT", "SMSOPTIN"]


async def test_lookups_are_cached_and_mark_the_contacts(store, contact, clock):
    assert await store.cached_lookup(PHONE) is None
    lookup = PhoneLookup(phone=PHONE, valid=True, line_type="landline", carrier_name="Bell", looked_up_at=clock.now())
    await store.save_lookup(lookup)
    assert await store.cached_lookup(PHONE) == lookup
    assert ((c := await store.get_contact(contact.id)).phone_status, c.line_type) == ("invalid", "landline")


async def test_a_numbers_interface_state_is_read_alone(store, contact, clock):
    assert await store.interface_state(PHONE) is None
    await store.commit(Decision(interface_state=InterfaceState(phone=PHONE, failures=2, failures_since=clock.now(),
                                                               muted_until=clock.now() + timedelta(hours=1))))
    state = await store.interface_state(PHONE)
    assert (state.failures, state.failures_since, state.muted_until) == (2, clock.now(), clock.now() + timedelta(hours=1))
