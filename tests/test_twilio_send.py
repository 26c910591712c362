"""Sending through the real twilio client to the fake: fields, every error path, timeouts, pace, delivery reports."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.clock import ManualClock
from gateway.model import PRIORITY_NOTICE, PRIORITY_VERIFICATION, Decision, OutboundMessage
from gateway.web.appkeys import SENDER, STORE
from tests import storage
from tests.conftest import PHONE
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, Answer, with_twilio
from tests.helpers import codes, deliver, event_log, post_alarm, scrape


class SteppingClock(ManualClock):
    """A test clock whose ``sleep`` moves time forward by the time slept: paced sends take no real time."""

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def clock(clock):
    return SteppingClock(clock.now())


@pytest.fixture
def config(config, fake_twilio):
    return with_twilio(config, fake_twilio, max_per_second=100, request_timeout_seconds=0.5)


def outbound(config) -> list[dict]:
    """The outbox as stored: attempts, error codes and carrier statuses have no public view."""
    return storage.rows(config.database.url, "outbound_messages")


async def queue(store, *messages):
    await store.commit(Decision(outbound=list(messages)))


async def test_a_verification_goes_out_with_callback_and_validity(client, config, tw, auth, site, contact):
    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    [sent] = tw.received
    assert sent.form["To"] == PHONE and sent.form["From"] == TWILIO_NUMBER
    assert sent.form["StatusCallback"] == "http://127.0.0.1:8080/carriers/twilio/status"
    assert int(sent.form["ValidityPeriod"]) == 300  # never past the verification's timeout (default 600)
    [row] = outbound(config)
    assert (row["status"], row["carrier"], row["carrier_message_id"]) == ("sent", "twilio", sent.sid)


async def test_messaging_service_replaces_from(aiohttp_client, fake_twilio, config, clock):
    from gateway.web.app import create_app

    service = "MG" + "a" * 32
    app = create_app(with_twilio(config, fake_twilio, messaging_service_sid=service), clock=clock, run_loops=False)
    client = await aiohttp_client(app)
    await queue(app[STORE], OutboundMessage(to_phone=PHONE, body="notice", kind="notice"))
    await deliver(client)
    [sent] = fake_twilio.received
    assert sent.form["MessagingServiceSid"] == service and "From" not in sent.form
    assert "ValidityPeriod" not in sent.form  # only alarm texts expire


@pytest.mark.parametrize("status, code, logged", [(400, 21614, "landline"), (400, 21211, None)])
async def test_invalid_numbers_fail_at_once_and_mark_the_phone(client, app, config, tw, auth, site, contact,
                                                               status, code, logged):
    tw.script.append(Answer(status=status, code=code, message="The 'To' number is not valid"))
    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    [row] = outbound(config)
    assert (row["status"], row["error_code"], row["attempts"]) == ("failed", str(code), 1)
    last = (await event_log(client, auth, site.id))[-1]
    assert last["code"] == "SMSFAIL" and last["details"]["error_code"] == str(code)
    updated = await app[STORE].get_contact(contact.id)
    assert (updated.phone_status, updated.line_type) == ("invalid", logged)


async def test_unsubscribed_fails_at_once_and_opts_the_number_out(client, app, config, tw, auth, site, contact):
    tw.script.append(Answer(status=400, code=21610, message="Attempt to send to unsubscribed recipient"))
    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    assert outbound(config)[0]["status"] == "failed"
    assert {"SMSOPTOUT", "SMSFAIL"} <= set(codes(await event_log(client, auth, site.id)))
    assert await app[STORE].opted_out(PHONE)


@pytest.mark.parametrize("answer, code", [(Answer(status=429, code=20429, message="Too Many Requests"), "20429"),
                                          (Answer(status=500, message="Internal"), "500"),
                                          (Answer(delay=0.8), "timeout")])
async def test_rate_limits_5xx_and_timeouts_retry_with_backoff(client, app, config, clock, tw, answer, code):
    tw.script.append(answer)
    await queue(app[STORE], OutboundMessage(to_phone=PHONE, body="hello", kind="notice"))
    assert await app[SENDER].run_once() == 1
    [row] = outbound(config)
    assert (row["status"], row["error_code"], row["attempts"]) == ("queued", code, 1)
    assert tw.refused + len(tw.received) <= 1  # the library did not repeat the POST
    assert await app[SENDER].run_once() == 0  # backing off
    clock.advance(config.outbox.backoff_base_seconds)
    await deliver(client)
    assert outbound(config)[0]["status"] == "sent" and [r.body for r in tw.received] == ["hello"]


async def test_sends_run_concurrently_within_the_bound(aiohttp_client, fake_twilio, config, clock):
    import msgspec

    from gateway.web.app import create_app

    bounded = msgspec.structs.replace(with_twilio(config, fake_twilio, max_per_second=1000),
                                      outbox=msgspec.structs.replace(config.outbox, max_in_flight=4))
    app = create_app(bounded, clock=clock, run_loops=False)
    await aiohttp_client(app)
    fake_twilio.script.extend(Answer(delay=0.1) for _ in range(8))
    await queue(app[STORE], *[OutboundMessage(to_phone=PHONE, body=f"n{i}", kind="notice") for i in range(8)])
    assert await app[SENDER].run_once() == 8
    assert fake_twilio.max_in_flight == 4 and len(fake_twilio.received) == 8


async def test_a_burst_drains_at_the_segment_rate_alarms_first(aiohttp_client, fake_twilio, config, clock):
    import msgspec

    from gateway.web.app import create_app

    rate = 2.0
    paced = msgspec.structs.replace(with_twilio(config, fake_twilio, max_per_second=rate),
                                    outbox=msgspec.structs.replace(config.outbox, max_in_flight=1))
    app = create_app(paced, clock=clock, run_loops=False)
    await aiohttp_client(app)
    long_text = "x" * 300  # 2 segments
    await queue(app[STORE], *[OutboundMessage(to_phone=PHONE, body=f"test {i}" if i % 3 else long_text,
                                              kind="notice", priority=PRIORITY_NOTICE) for i in range(9)])
    await queue(app[STORE], OutboundMessage(to_phone=PHONE, body="ALARM", kind="verification",
                                            priority=PRIORITY_VERIFICATION))
    start = clock.monotonic()
    assert await app[SENDER].run_once() == 10
    got = fake_twilio.received
    assert got[0].body == "ALARM"  # queued last, sent first
    parts = [2 if r.body == long_text else 1 for r in got]
    gaps = [b.at - a.at for a, b in zip(got, got[1:])]
    assert gaps == pytest.approx([n / rate for n in parts[:-1]])
    assert got[0].at == start and got[-1].at - start == pytest.approx((sum(parts) - parts[-1]) / rate)


async def test_delivery_reports_move_forward_only(client, app, config, tw, auth, site, contact):
    data = await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    sid = tw.received[0].sid
    for status in ("delivered", "sent", "queued", "delivered", "undelivered"):  # late, repeated, contradicting
        assert (await tw.report(sid, status))[0] == 204
    [row] = outbound(config)
    assert (row["status"], row["carrier_status"]) == ("delivered", "delivered")
    verification = await app[STORE].get_verification(data["verifications"][0]["verification_id"])
    assert verification.recipients[0].status == "delivered" and verification.status == "delivered"
    assert "SMSFAIL" not in codes(await event_log(client, auth, site.id))


async def test_a_failed_delivery_is_recorded_and_logged_once(client, app, config, tw, auth, site, contact):
    data = await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    sid = tw.received[0].sid
    await tw.report(sid, "sent")
    await tw.report(sid, "undelivered", error_code="30003")
    await tw.report(sid, "undelivered", error_code="30003")
    [row] = outbound(config)
    assert (row["status"], row["error_code"]) == ("undelivered", "30003")
    recipient = (await app[STORE].get_verification(data["verifications"][0]["verification_id"])).recipients[0]
    assert recipient.status == "failed"
    failures = [r for r in await event_log(client, auth, site.id) if r["code"] == "SMSFAIL"]
    assert len(failures) == 1 and failures[0]["details"]["error_code"] == "30003"
    assert failures[0]["details"]["outbox_id"] == row["id"]


async def test_a_report_that_overtakes_the_send_is_not_lost(client, app, config, tw, auth, site, contact):
    tw.auto_reports = ("sent", "delivered")  # fired while the gateway is still recording the send
    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    await tw.settle()  # the reports answered, however long the machine takes
    assert outbound(config)[0]["status"] == "delivered"


async def test_a_failure_report_that_came_before_the_send_was_recorded_is_applied_by_the_record(
        client, app, config, tw, auth, site, contact):
    data = await post_alarm(client, auth, site.id, "BA")
    sid = f"SM{1:032x}"  # the fake's first sid: the report comes before the gateway has even sent
    early = tw.report_fields(sid, "undelivered", error_code="30003")
    assert (await tw.post_signed(f"{config.http.public_url}/carriers/twilio/status", early))[0] == 204
    assert await deliver(client) == 1 and tw.received[0].sid == sid
    [row] = outbound(config)
    assert (row["status"], row["error_code"]) == ("undelivered", "30003")
    recipient = (await app[STORE].get_verification(data["verifications"][0]["verification_id"])).recipients[0]
    assert recipient.status == "failed"
    [failure] = [r for r in await event_log(client, auth, site.id) if r["code"] == "SMSFAIL"]
    assert "Twilio reported the text undelivered (error 30003)" in failure["comment"]  # the carrier's own log
    samples = await scrape(client)  # counted as the webhook counts a failed report it applies itself
    assert samples[("gateway_carrier_errors_total", (("carrier", "twilio"), ("code", "30003")))] == 1.0


async def test_a_forged_report_is_refused(client, tw, auth):
    resp = await client.post("/carriers/twilio/status", data={"MessageSid": "SMx", "MessageStatus": "delivered"},
                             headers={"X-Twilio-Signature": "forged"})
    assert resp.status == 403


async def test_secrets_never_reach_a_log_line(client, app, config, clock, tw, auth, site, contact, caplog):
    from gateway.web.appkeys import CARRIER

    with caplog.at_level(logging.DEBUG):
        tw.script.append(Answer(status=500))
        await post_alarm(client, auth, site.id, "BA")
        await deliver(client)
        clock.advance(config.outbox.backoff_base_seconds)
        await deliver(client)
        await tw.report(tw.received[0].sid, "delivered")
        await client.post("/carriers/twilio/status", data={"MessageSid": "SMx"}, headers={"X-Twilio-Signature": "x"})
    assert any(r.name.startswith("twilio") for r in caplog.records)  # the library's own request log is included
    assert not any(AUTH_TOKEN in r.getMessage() for r in caplog.records)
    assert AUTH_TOKEN not in repr(app[CARRIER].settings) and ACCOUNT_SID in repr(app[CARRIER].settings)
