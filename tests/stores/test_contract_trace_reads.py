"""The store reads `gateway trace` makes (gateway/stores/manager: outbound_texts, inbound_texts,
verifications_for_phone, site_verifications, phone_log, alarm_log, opt_out_state, last_alarm_event), on
real traffic through the app."""

from __future__ import annotations

from datetime import timedelta

from gateway.auth.apikeys import create_key
from gateway.model import Contact, Site
from gateway.web.app import create_app
from gateway.web.appkeys import STORE
from tests.conftest import OTHER_PHONE, PHONE
from tests.fake_twilio import with_twilio
from tests.helpers import deliver, post_alarm, text
from tests.stores.through_app import app_config, app_store  # noqa: F401 (fixtures: the app on db_url)

LANDLINE = "+15005550009"  # the loopback carrier refuses it with 21614, as Twilio's test credentials do


async def test_texts_out_and_in_of_a_number_oldest_first_and_the_newest_only(client, auth, store, site, contact,
                                                                             clock):
    start = clock.now()
    first = (await post_alarm(client, auth, site.id))["verifications"][0]["verification_id"]
    await deliver(client)
    clock.advance(10)
    await text(client, PHONE, "YES")
    clock.advance(10)
    await text(client, PHONE, "thanks")
    await text(client, OTHER_PHONE, "someone else")
    out = await store.outbound_texts(phone=PHONE, limit=10)
    assert [(t.kind, t.status, t.verification_id) for t in out] == [
        ("verification", "sent", first), ("reply", "sent", None), ("reply", "sent", None)]
    assert out[0].created_at == out[0].sent_at == start and out[0].carrier == "loopback"
    assert "CONFIRMED" in out[1].body and "already confirmed" in out[2].body
    inbound = await store.inbound_texts(PHONE, limit=10)
    assert [t.body for t in inbound] == ["YES", "thanks"] and inbound[1].received_at == clock.now()
    assert [t.inbound_id for t in out] == [None, inbound[0].id, inbound[1].id]
    assert [t.body for t in await store.inbound_texts(PHONE, limit=1)] == ["thanks"]
    assert [t.id for t in await store.outbound_texts(phone=PHONE, limit=1)] == [out[2].id]
    assert await store.outbound_texts(phone=LANDLINE, limit=10) == []


async def test_a_verifications_messages_and_a_failed_ones_error(client, auth, store, site, contact, clock):
    await store.add_contact(Contact(id=0, site_id=site.id, first_name="Lana", last_name="Line", phone=LANDLINE,
                                    auto_notify=True, created_at=clock.now()))
    v = (await post_alarm(client, auth, site.id))["verifications"][0]["verification_id"]
    await deliver(client)
    texts = await store.outbound_texts(verification_id=v, limit=10)
    assert [(t.to_phone, t.status, t.error_code) for t in texts] == [(PHONE, "sent", None),
                                                                     (LANDLINE, "failed", "21614")]
    assert texts[1].sent_at is None and texts[1].attempts == 1 and texts[1].reports == ()


async def test_verifications_of_a_number_and_of_a_site_newest_first(client, auth, store, site, contact, clock):
    first = (await post_alarm(client, auth, site.id))["verifications"][0]["verification_id"]
    clock.advance(60)
    second = (await post_alarm(client, auth, site.id, code="BV"))["verifications"][0]["verification_id"]
    await deliver(client)
    await text(client, PHONE, "YES")
    by_phone = await store.verifications_for_phone(PHONE, limit=10)
    assert [v.id for v in by_phone] == [second, first]
    assert by_phone[0].status == "responded" and by_phone[0].responder_name == "John Doe"
    assert [(r.contact_id, r.phone) for r in by_phone[1].recipients] == [(contact.id, PHONE)]
    assert [v.id for v in await store.verifications_for_phone(PHONE, limit=1)] == [second]
    assert await store.verifications_for_phone(OTHER_PHONE, limit=10) == []
    assert [v.id for v in await store.site_verifications(site.id, limit=10)] == [second, first]
    assert await store.site_verifications("elsewhere", limit=10) == []


async def test_a_numbers_rows_and_an_alarms_rows(client, auth, store, site, contact, clock):
    alarm = await post_alarm(client, auth, site.id, code="XX", event_id="evt_nothing")  # no process: SMSNOPROC
    clock.advance(5)
    await post_alarm(client, auth, site.id, event_id="evt_burglary")
    await deliver(client)
    await text(client, PHONE, "YES")
    await text(client, OTHER_PHONE, "who is this")
    assert [r.code for r in await store.phone_log(PHONE, limit=10)] == ["SMSSENT", "SMSYES"]
    assert [r.code for r in await store.phone_log(PHONE, limit=1)] == ["SMSYES"]
    assert [r.code for r in await store.phone_log(OTHER_PHONE, limit=10)] == ["SMSUNKNOWN"]
    assert [r.code for r in await store.alarm_log(site.id, alarm["event_id"], limit=10)] == ["XX", "SMSNOPROC"]
    assert await store.alarm_log("elsewhere", alarm["event_id"], limit=10) == []
    last = await store.last_alarm_event(site.id)
    assert (last.id, last.event_code) == ("evt_burglary", "BA")
    assert await store.last_alarm_event("elsewhere") is None


async def test_opt_out_state_says_when_and_by_what(aiohttp_client, config, clock, fake_twilio):
    app = create_app(with_twilio(config, fake_twilio), clock=clock, run_loops=False)
    client = await aiohttp_client(app)
    fake_twilio.deliver_to = client
    store = app[STORE]
    assert await store.opt_out_state(PHONE) is None
    await fake_twilio.text(f"{config.http.public_url}/carriers/twilio/inbound", PHONE, "STOP", OptOutType="STOP")
    state = await store.opt_out_state(PHONE)
    assert (state.opted_out, state.source, state.changed_at) == (True, "STOP", clock.now())
    clock.advance(60)
    await fake_twilio.text(f"{config.http.public_url}/carriers/twilio/inbound", PHONE, "START", OptOutType="START")
    state = await store.opt_out_state(PHONE)
    assert (state.opted_out, state.source, state.changed_at) == (False, "START", clock.now())


async def test_carrier_reports_of_a_text_in_the_order_they_came(aiohttp_client, config, clock, fake_twilio):
    app = create_app(with_twilio(config, fake_twilio, max_per_second=100), clock=clock, run_loops=False)
    client = await aiohttp_client(app)
    fake_twilio.deliver_to = client
    store = app[STORE]
    await store.add_site(Site(id="site_main", dealer_id="12345", name="Main Office", created_at=clock.now()))
    await store.add_contact(Contact(id=0, site_id="site_main", first_name="John", last_name="Doe", phone=PHONE,
                                    auto_notify=True, created_at=clock.now()))
    auth = {"Authorization": f"Bearer {await create_key(store, 'tests', clock)}"}
    await post_alarm(client, auth, "site_main")
    await deliver(client)
    sid = fake_twilio.received[0].sid
    start = clock.now()
    clock.advance(2)
    await fake_twilio.report(sid, "sent")
    clock.advance(3)
    await fake_twilio.report(sid, "undelivered", error_code="30003")
    [sent] = await store.outbound_texts(phone=PHONE, limit=10)
    assert (sent.status, sent.error_code, sent.carrier_message_id) == ("undelivered", "30003", sid)
    assert [(r.status, r.error_code, r.at) for r in sent.reports] == [
        ("sent", None, start + timedelta(seconds=2)), ("undelivered", "30003", clock.now())]
