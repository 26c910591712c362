"""Twilio's webhooks: signatures (also behind a TLS proxy), TwiML replies, duplicates, opt-out and opt-in."""

from __future__ import annotations

import logging

import pytest

from gateway.carriers.twilio_settings import warnings
from tests import storage
from tests.conftest import PHONE
from tests.fake_twilio import ACCOUNT_SID, with_twilio
from tests.helpers import codes, deliver, event_log, post_alarm
from tests.webhook_receiver import deliver_webhooks, subscribed

INBOUND = "/carriers/twilio/inbound"
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@pytest.fixture
def config(config, fake_twilio, receiver, tmp_path):
    """Twilio as the carrier, and a webhook subscriber to see the notifications an opt-out sends."""
    return subscribed(with_twilio(config, fake_twilio, max_per_second=100), receiver, tmp_path)


def inbound_url(config, query: str = "") -> str:
    return config.http.public_url.rstrip("/") + INBOUND + query


async def test_reply_goes_back_as_twiml(client, config, tw, auth, site, contact):
    await post_alarm(client, auth, site.id, "BA", zone="3", text="Motion")
    assert await deliver(client) == 1 and tw.received[0].to == PHONE
    status, body = await tw.text(inbound_url(config), PHONE, "Yes!")
    assert status == 200
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thank you John.')
    assert body.endswith("</Message></Response>")
    assert codes(await event_log(client, auth, site.id))[-1] == "SMSYES"


async def test_nothing_to_say_is_an_empty_response(client, config, tw):
    status, body = await tw.text(inbound_url(config), "+15550999999", "who is this")
    assert (status, body) == (200, EMPTY)


async def test_retried_webhook_logs_once_and_replies_once(client, config, tw, auth, site, contact):
    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    first = await tw.text(inbound_url(config), PHONE, "YES", sid="SM" + "1" * 32)
    again = await tw.text(inbound_url(config), PHONE, "YES", sid="SM" + "1" * 32)
    assert "<Message>" in first[1] and again == (200, EMPTY)
    assert codes(await event_log(client, auth, site.id)).count("SMSYES") == 1


@pytest.mark.parametrize("how", ["missing", "wrong", "tampered"])
async def test_bad_signature_is_refused_and_nothing_stored(client, config, tw, auth, caplog, how):
    fields = tw.inbound_fields(PHONE, "YES")
    headers = {"missing": {}, "wrong": {"X-Twilio-Signature": "bm90IGl0"},
               "tampered": {"X-Twilio-Signature": tw.sign(inbound_url(config), {**fields, "Body": "NO"})}}[how]
    with caplog.at_level(logging.WARNING):
        resp = await client.post(INBOUND, data=fields, headers=headers)
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "FORBIDDEN"
    assert any("signature" in r.getMessage() and "rejected" in r.getMessage() for r in caplog.records)
    assert await event_log(client, auth) == []


async def test_behind_a_tls_proxy_the_public_https_url_is_what_counts(aiohttp_client, fake_twilio, config, clock):
    from gateway.web.app import create_app

    proxied = with_twilio(config, fake_twilio, public_url="https://sms.example.com/")
    client = await aiohttp_client(create_app(proxied, clock=clock, run_loops=False))
    fake_twilio.deliver_to = client
    public = "https://sms.example.com" + INBOUND + "?site=main"
    assert (await fake_twilio.text(public, PHONE, "hello"))[0] == 200
    fields = {"MessageSid": fake_twilio.new_sid(), "From": PHONE, "Body": "hello"}
    as_seen_locally = str(client.make_url(INBOUND + "?site=main"))
    signature = fake_twilio.sign(as_seen_locally, fields)
    assert (await fake_twilio.post_signed(public, fields, signature=signature))[0] == 403


async def test_validation_switched_off_accepts_unsigned_and_check_warns(aiohttp_client, fake_twilio, config, clock):
    from gateway.web.app import create_app

    unsafe = with_twilio(config, fake_twilio, validate_signatures=False)
    client = await aiohttp_client(create_app(unsafe, clock=clock, run_loops=False))
    resp = await client.post(INBOUND, data=fake_twilio.inbound_fields(PHONE, "hi"))
    assert resp.status == 200
    misshapen = {**fake_twilio.inbound_fields(PHONE, "hi"), "MessageSid": "SMx"}
    assert (await client.post(INBOUND, data=misshapen)).status == 403  # the shape rules still hold
    assert "OFF" in warnings(unsafe)[0] and warnings(config) == []


async def test_stop_opts_out_sends_fail_fast_and_start_opts_back_in(client, app, config, tw, auth, site, contact):
    status, body = await tw.text(inbound_url(config), PHONE, "STOP", OptOutType="STOP")
    assert (status, body) == (200, EMPTY)
    rows = await event_log(client, auth, site.id)
    assert [(r["code"], r["contact_id"]) for r in rows] == [("SMSOPTOUT", contact.id), ("SMSIN", contact.id)]
    await tw.text(inbound_url(config), PHONE, "STOP", OptOutType="STOP")  # a second STOP changes nothing
    assert codes(await event_log(client, auth, site.id)).count("SMSOPTOUT") == 1

    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    assert tw.received == []  # no carrier call
    failed = (await event_log(client, auth, site.id))[-1]
    assert failed["code"] == "SMSFAIL" and failed["details"]["error_code"] == "OPTED_OUT"

    await tw.text(inbound_url(config), PHONE, "START", OptOutType="START")
    assert codes(await event_log(client, auth, site.id))[-2:] == ["SMSOPTIN", "SMSReply"]  # START answered the alarm
    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    assert [r.to for r in tw.received] == [PHONE]


async def test_help_is_passed_through_without_opting_out(client, app, config, tw, auth, site, contact):
    from gateway.web.appkeys import STORE

    await tw.text(inbound_url(config), PHONE, "HELP", OptOutType="HELP")
    assert not await app[STORE].opted_out(PHONE)


async def test_cancel_that_opts_out_answers_the_alarm_but_records_no_reply(client, app, config, tw, auth, site,
                                                                            contact):
    await post_alarm(client, auth, site.id, "BA")
    status, body = await tw.text(inbound_url(config), PHONE, "CANCEL", OptOutType="STOP")
    assert (status, body) == (200, EMPTY)  # Twilio would refuse a reply to a number that just opted out
    assert codes(await event_log(client, auth, site.id))[-1] == "SMSNO"  # the cancel still counts
    assert [row for row in storage.rows(config.database.url, "outbound_messages") if row["kind"] == "reply"] == []


async def test_stop_queues_a_contact_opted_out_webhook(client, app, config, tw, site, contact, receiver):
    await tw.text(inbound_url(config), PHONE, "STOP", OptOutType="STOP")
    await deliver_webhooks(client)
    assert [(p["event_type"], p["data"]["contact_ids"], p["data"]["source"]) for p in receiver.payloads()] == [
        ("contact.opted_out", [contact.id], "STOP")]


# Replays. Twilio's signature runs key and value together with no separator, so a captured request
# still validates with a parameter boundary moved; only the form's shape can tell.
def without(fields: dict[str, str], key: str) -> dict[str, str]:
    return {k: v for k, v in fields.items() if k != key}


def inbound_rows(config) -> int:
    return storage.count(config.database.url, "inbound_messages")


async def test_a_yes_replayed_with_nummedia_moved_into_messagesid_confirms_nothing(client, config, tw, auth, site,
                                                                                    contact, caplog):
    url = inbound_url(config)
    await post_alarm(client, auth, site.id, "BA", event_id="evt_first")
    await deliver(client)
    captured = tw.inbound_fields(PHONE, "YES")
    signature = tw.sign(url, captured)
    assert (await tw.post_signed(url, captured, signature=signature))[0] == 200  # confirms the first alarm
    await post_alarm(client, auth, site.id, "BA", event_id="evt_later")
    await deliver(client)
    before = await event_log(client, auth, site.id)
    replay = {**without(captured, "NumMedia"), "MessageSid": captured["MessageSid"] + "NumMedia0"}
    assert tw.validates(url, replay, signature)  # the same signature fits the moved boundary
    with caplog.at_level(logging.WARNING):
        status, _ = await tw.post_signed(url, replay, signature=signature)
    assert status == 403
    assert await event_log(client, auth, site.id) == before  # the later alarm is still unanswered
    assert any("MessageSid" in r.getMessage() and "rejected" in r.getMessage() for r in caplog.records)


async def test_an_apiversion_that_swallowed_the_body_is_refused(client, config, tw, auth):
    url = inbound_url(config)
    captured = tw.inbound_fields(PHONE, "NO")
    signature = tw.sign(url, captured)
    replay = {**without(captured, "Body"), "ApiVersion": "2010-04-01BodyNO"}
    assert tw.validates(url, replay, signature)
    assert (await tw.post_signed(url, replay, signature=signature))[0] == 403
    assert inbound_rows(config) == 0 and await event_log(client, auth) == []


async def test_a_key_sent_twice_is_refused_in_any_order(client, config, tw, auth):
    url = inbound_url(config)
    pairs = list(without(tw.inbound_fields(PHONE, ""), "Body").items())
    signature = tw.sign(url, [*pairs, ("Body", "first"), ("Body", "second")])
    reordered = [*pairs, ("Body", "second"), ("Body", "first")]
    assert tw.validates(url, reordered, signature)
    assert (await tw.post_signed(url, reordered, signature=signature))[0] == 403
    assert inbound_rows(config) == 0 and await event_log(client, auth) == []


OTHER_ACCOUNT = "AC" + "9" * 32


@pytest.mark.parametrize("change", [
    {"MessageSid": "SMx"}, {"SmsSid": "SM" + "A" * 32}, {"SmsMessageSid": "XX" + "1" * 32},
    {"AccountSid": OTHER_ACCOUNT}, {"AccountSid": "AC123"}, {"AccountSid": None}, {"ApiVersion": None},
    {"CallSid": "CAnot-a-call"}, {"NumMedia": "0x"},
], ids=lambda change: ",".join(f"{k}={v}" for k, v in change.items()))
async def test_an_inbound_form_twilio_would_not_send_is_refused(client, config, tw, auth, change):
    url = inbound_url(config)
    fields = {k: v for k, v in {**tw.inbound_fields(PHONE, "YES"), **change}.items() if v is not None}
    assert (await tw.post_signed(url, fields))[0] == 403  # correctly signed, wrongly shaped
    assert inbound_rows(config) == 0 and await event_log(client, auth) == []


async def test_an_mms_sid_is_accepted(client, config, tw):
    status, body = await tw.text(inbound_url(config), "+15550999999", "photo", sid="MM" + "a" * 32)
    assert (status, body) == (200, EMPTY) and inbound_rows(config) == 1


@pytest.mark.parametrize("change", [{"MessageSid": "SMx"}, {"AccountSid": OTHER_ACCOUNT}, "twice"])
async def test_a_status_callback_twilio_would_not_send_is_refused(client, app, config, tw, auth, site, contact,
                                                                   change):
    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    sent = tw.received[0]
    fields = tw.report_fields(sent.sid, "delivered")
    form = [*fields.items(), ("MessageStatus", "failed")] if change == "twice" else {**fields, **change}
    assert (await tw.post_signed(sent.form["StatusCallback"], form))[0] == 403
    assert storage.count(config.database.url, "delivery_statuses") == 0
    assert [row["status"] for row in storage.rows(config.database.url, "outbound_messages")] == ["sent"]


def test_voice_callbacks_get_the_same_rules():
    from gateway.carriers.twilio_webhook import VOICE as required, refusal

    call = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": "CA" + "0" * 32, "From": PHONE,
            "To": "+15005550006", "Digits": "1"}
    assert refusal(list(call.items()), ACCOUNT_SID, required) is None
    assert "CallSid" in refusal(list({**call, "CallSid": "CA" + "0" * 32 + "Digits1"}.items()), ACCOUNT_SID, required)
    assert "twice" in refusal([*call.items(), ("Digits", "2")], ACCOUNT_SID, required)
    assert "CallSid" in refusal(list(without(call, "CallSid").items()), ACCOUNT_SID, required)
    assert "account" in refusal(list({**call, "AccountSid": OTHER_ACCOUNT}.items()), ACCOUNT_SID, required)
