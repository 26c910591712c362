"""The store reads the operator console makes (gateway/stores/manager: verifications_since, verification_log,
dispatch_log, get_dispatch, send_failures_since, last_failed_texts), on real traffic through the app."""

from __future__ import annotations

from datetime import timedelta

from gateway.model import Contact
from tests.conftest import OTHER_PHONE, PHONE
from tests.helpers import deliver, post_alarm, text
from tests.stores.through_app import app_config, app_store  # noqa: F401 (fixtures: the app on db_url)

LANDLINE = "+15005550009"  # the loopback carrier refuses it with 21614, as Twilio's test credentials do


async def test_verifications_since_lists_recent_alarms_newest_first_with_recipients(client, auth, store, site,
                                                                                    contact, clock):
    first = (await post_alarm(client, auth, site.id, zone="3", text="Motion"))["verifications"][0]
    clock.advance(60)
    second = (await post_alarm(client, auth, site.id, code="BV"))["verifications"][0]
    await deliver(client)
    await text(client, PHONE, "YES")
    found = await store.verifications_since(clock.now() - timedelta(minutes=5), limit=10)
    assert [v.id for v in found] == [second["verification_id"], first["verification_id"]]
    assert found[0].status == "responded" and found[0].responder_name == "John Doe"
    assert [(r.contact_id, r.status) for r in found[1].recipients] == [(contact.id, "sent")]
    assert [v.id for v in await store.verifications_since(clock.now() - timedelta(seconds=30), limit=10)] == \
        [second["verification_id"]]
    assert len(await store.verifications_since(clock.now() - timedelta(minutes=5), limit=1)) == 1


async def test_verification_log_is_one_alarms_rows_oldest_first(client, auth, store, site, contact):
    v = (await post_alarm(client, auth, site.id))["verifications"][0]
    await deliver(client)
    await text(client, PHONE, "YES")
    rows = await store.verification_log(site.id, v["verification_id"], limit=100)
    assert [r.code for r in rows] == ["SMSSENT", "SMSYES"]
    assert rows[0].details["recipient"] == "John Doe" and "ALARM at Main Office" in rows[0].comment
    assert await store.verification_log("elsewhere", v["verification_id"], limit=100) == []


async def test_dispatch_log_and_get_dispatch(client, auth, store, site, contact, clock):
    other = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Jane", last_name="Roe",
                                            phone=OTHER_PHONE, created_at=clock.now()))
    resp = await client.post("/ext/v1/dispatches", headers=auth, json={
        "site_id": site.id, "contacts": [contact.id, other.id], "template": "police-dispatched",
        "variables": {"reference": "R-17"}})
    dispatch_id = (await resp.json())["data"]["dispatch_id"]
    await deliver(client)
    await text(client, OTHER_PHONE, "On my way")
    rows = await store.dispatch_log(site.id, dispatch_id, limit=100)
    assert [(r.code, r.contact_id) for r in rows] == [("SMSDISP", contact.id), ("SMSDISP", other.id),
                                                      ("SMSReply", other.id)]
    assert rows[2].comment == "On my way"
    assert len(await store.dispatch_log(site.id, dispatch_id, limit=2)) == 2
    dispatch = await store.get_dispatch(dispatch_id)
    assert (dispatch.template, dispatch.code) == ("police-dispatched", "SMSDISP")
    assert dispatch.recipients == ((contact.id, PHONE), (other.id, OTHER_PHONE))
    assert await store.get_dispatch("dsp_nothing") is None


async def test_failures_by_code_and_each_contacts_last_failed_text(client, auth, store, site, contact, clock):
    landline = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Lana", last_name="Line",
                                               phone=LANDLINE, created_at=clock.now()))
    for _ in range(2):
        await client.post("/ext/v1/dispatches", headers=auth, json={
            "site_id": site.id, "contacts": [contact.id, landline.id], "text": "Police dispatched."})
        await deliver(client)
        clock.advance(minutes=40)
    failed = await store.last_failed_texts(site.id)
    assert list(failed) == [landline.id]
    assert (failed[landline.id].kind, failed[landline.id].error_code) == ("dispatch", "21614")
    assert failed[landline.id].at == clock.now() - timedelta(minutes=40)  # the second one: the newest
    assert await store.send_failures_since(clock.now() - timedelta(hours=1)) == {"21614": 1}
    assert await store.send_failures_since(clock.now() - timedelta(hours=2)) == {"21614": 2}
    assert await store.last_failed_texts("elsewhere") == {}
