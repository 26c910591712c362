"""Recovery from the carrier (gateway/loops/recovery.py): texts the carrier took while the gateway was stopped or
its store unreachable are asked for and run late, through the loopback carrier and through the fake Twilio."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import msgspec
import pytest

from gateway.clock import isoformat
from gateway.web.app import create_app
from gateway.web.appkeys import CARRIER, EXPIRY, RECOVERY, STORE
from tests.conftest import PHONE
from tests.daemon import Daemon, wait_for
from tests.fake_twilio import (ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, FakeTwilio, fake_twilio_in_a_thread,
                               with_twilio)
from tests.helpers import codes, deliver, event_log, outbox, post_alarm, text

CONFIRMED = "Thank you John. Alarm at Main Office CONFIRMED. Police are being requested."


@pytest.fixture(params=["loopback", "twilio"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def config(config, backend, fake_twilio):
    return with_twilio(config, fake_twilio, max_per_second=100) if backend == "twilio" else config


@dataclass
class Carrier:
    """The carrier's side as the tests play it: texts it hands the gateway or keeps for it, what it sent."""

    backend: str
    fake: FakeTwilio
    public_url: str

    async def text(self, client, from_: str, body: str, sid: str) -> None:
        """A text the gateway got as it came (by webhook)."""
        if self.backend == "loopback":
            await text(client, from_, body, message_id=sid)
        else:
            self.fake.deliver_to = client
            assert (await self.fake.text(self.public_url + "/carriers/twilio/inbound", from_, body, sid=sid))[0] == 200

    async def miss(self, client, from_: str, body: str, sid: str | None = None) -> None:
        """A text the carrier took and could not hand over (Twilio: its webhook failed with 11200)."""
        if self.backend == "twilio":
            self.fake.missed_text(from_, body, sid)
            return
        resp = await client.post("/carriers/loopback/inbound", json={"from": from_, "body": body, "missed": True,
                                                                      **({"message_id": sid} if sid else {})})
        assert resp.status == 202 and (await resp.json())["missed"] is True

    async def sent_to(self, client, phone: str) -> list[str]:
        if self.backend == "loopback":
            return [m["body"] for m in await outbox(client, to=phone)]
        return [r.body for r in self.fake.received if r.to == phone]


@pytest.fixture
def carrier(backend, fake_twilio, config) -> Carrier:
    return Carrier(backend, fake_twilio, config.http.public_url.rstrip("/"))


async def restart(aiohttp_client, client, config, clock, carrier: Carrier, missed=(), down_seconds: float = 60):
    """Stop the gateway and start it again ``down_seconds`` later; half-way the carrier takes the ``missed``
    (from, body) texts and cannot hand them over. The fake Twilio takes them while the gateway is down; the
    loopback carrier keeps what it takes in the gateway's own database, so it takes them as the gateway
    starts, before recovery runs: the same to recovery."""
    await client.close()
    clock.advance(down_seconds / 2)
    if carrier.backend == "twilio":
        for from_, body in missed:
            carrier.fake.missed_text(from_, body)
    client = await aiohttp_client(create_app(config, clock=clock, run_loops=False))
    if carrier.backend == "loopback":
        for from_, body in missed:
            await carrier.miss(client, from_, body)
    clock.advance(down_seconds / 2)
    return client


async def verification(client, auth, verification_id: str) -> dict:
    resp = await client.get(f"/ext/v1/verifications/{verification_id}", headers=auth)
    assert resp.status == 200
    return (await resp.json())["data"]


async def test_a_yes_sent_while_the_gateway_was_down_is_recovered_at_restart_and_confirms(
        aiohttp_client, client, config, clock, auth, site, contact, carrier):
    v = (await post_alarm(client, auth, site.id))["verifications"][0]
    await deliver(client)
    answered_at = clock.now() + timedelta(seconds=30)
    client = await restart(aiohttp_client, client, config, clock, carrier, missed=[(PHONE, "YES")])
    assert await client.app[RECOVERY].run_once() == 1
    [yes] = [r for r in await event_log(client, auth, site.id) if r["code"] == "SMSYES"]
    assert yes["verification_id"] == v["verification_id"] and yes["comment"] == "YES"
    assert yes["details"] == {"keyword": "YES", "outcome": "confirm", "late": True,
                              "carrier_received_at": isoformat(answered_at)}
    state = await verification(client, auth, v["verification_id"])
    assert (state["status"], state["response"]) == ("responded", "confirmed")
    await deliver(client)  # no webhook to answer: the thank-you went to the outbox
    assert (await carrier.sent_to(client, PHONE))[-1] == CONFIRMED


async def test_an_answer_recovered_after_its_verification_timed_out_is_smslate_without_a_thank_you(
        aiohttp_client, client, config, clock, auth, site, contact, carrier):
    v = (await post_alarm(client, auth, site.id))["verifications"][0]
    await deliver(client)
    texts_before = len(await carrier.sent_to(client, PHONE))
    # Answered 200 s into the 300 s the alarm waits, seen 400 s in, after its timeout.
    client = await restart(aiohttp_client, client, config, clock, carrier, missed=[(PHONE, "NO")], down_seconds=400)
    assert [e.id for e in await client.app[EXPIRY].run_once()] == [v["verification_id"]]
    assert await client.app[RECOVERY].run_once() == 1
    rows = await event_log(client, auth, site.id)
    assert codes(rows)[-2:] == ["SMSTIMEOUT", "SMSLATE"]
    late = rows[-1]
    assert (late["verification_id"], late["contact_id"], late["comment"]) == (v["verification_id"], contact.id, "NO")
    assert late["details"]["keyword"] == "NO" and late["details"]["outcome"] == "cancel" and late["details"]["late"]
    assert (await verification(client, auth, v["verification_id"]))["status"] == "expired"
    await deliver(client)
    assert len(await carrier.sent_to(client, PHONE)) == texts_before  # not thanked as if in time


async def test_a_text_already_seen_is_not_run_again(client, clock, auth, site, contact, carrier):
    recovery = client.app[RECOVERY]
    assert await recovery.run_once() == 0  # the pass at start: nothing missed
    await carrier.text(client, PHONE, "first", sid="SM" + "a" * 32)
    clock.advance(10)
    await carrier.miss(client, PHONE, "second", sid="SM" + "b" * 32)
    store = client.app[STORE]
    await store.close()  # the store stops answering, then answers again: a pass is due
    assert await recovery.run_once() == 0
    await store.open()
    assert await recovery.run_once() == 1
    await store.close()
    assert await recovery.run_once() == 0
    await store.open()
    assert await recovery.run_once() == 0  # the second time round, both were seen
    assert [(r["code"], r["comment"]) for r in await event_log(client, auth, site.id)] == [
        ("SMSIN", "first"), ("SMSIN", "second")]


async def test_only_when_the_store_comes_back_is_the_carrier_asked_again(client, clock, auth, site, contact, carrier):
    recovery = client.app[RECOVERY]
    assert await recovery.run_once() == 0
    await carrier.miss(client, PHONE, "while up")
    assert await recovery.run_once() == 0  # no outage seen: nothing is asked
    await client.app[STORE].close()
    assert await recovery.run_once() == 0
    await client.app[STORE].open()
    assert await recovery.run_once() == 1
    assert codes(await event_log(client, auth, site.id)) == ["SMSIN"]


async def test_the_window_bounds_what_is_asked_for(aiohttp_client, client, config, clock, auth, site, contact,
                                                  carrier, backend):
    await carrier.miss(client, PHONE, "too old")
    clock.advance(minutes=59)
    await carrier.miss(client, PHONE, "in time")
    clock.advance(minutes=2)  # the first is now 61 minutes old: outside carrier.*.recover_inbound_minutes (60)
    client = await restart(aiohttp_client, client, config, clock, carrier, down_seconds=0)
    assert await client.app[RECOVERY].run_once() == 1
    assert [r["comment"] for r in await event_log(client, auth, site.id)] == ["in time"]
    off = (msgspec.structs.replace(config.carrier, twilio=msgspec.structs.replace(config.carrier.twilio,
                                                                                    recover_inbound_minutes=0))
           if backend == "twilio" else msgspec.structs.replace(config.carrier, loopback=msgspec.structs.replace(
               config.carrier.loopback, recover_inbound_minutes=0)))
    await carrier.miss(client, PHONE, "never asked for")
    asked = len(carrier.fake.listed)
    client = await restart(aiohttp_client, client, msgspec.structs.replace(config, carrier=off), clock, carrier,
                           down_seconds=0)
    assert await client.app[RECOVERY].run_once() == 0
    assert len(carrier.fake.listed) == asked
    assert [r["comment"] for r in await event_log(client, auth, site.id)] == ["in time"]


@pytest.mark.parametrize("backend", ["twilio"])
async def test_twilio_pages_are_followed_and_texts_run_oldest_first(client, clock, auth, carrier):
    client.app[CARRIER].recovery_page_size = 2
    recovery = client.app[RECOVERY]
    strangers = [f"+155501235{n:02d}" for n in range(5)]
    for n, phone in enumerate(strangers):
        carrier.fake.missed_text(phone, f"text {n}")
        clock.advance(5)
    assert await recovery.run_once() == 5
    assert [(r["code"], r["comment"]) for r in await event_log(client, auth)] == [
        ("SMSUNKNOWN", f"text {n}") for n in range(5)]
    pages = list(carrier.fake.listed)
    assert [q.get("Page") for q in pages] == [None, "1", "2"]  # the library followed next_page_uri twice
    assert all(q["To"] == TWILIO_NUMBER and q["PageSize"] == "2" and "DateSent>" in q for q in pages)
    assert pages[1]["PageToken"].startswith("PASM")


def test_a_stopped_gateway_serve_recovers_from_twilio_the_yes_sent_while_it_was_stopped(tmp_path):
    """The real daemon and the real twilio library against the fake Twilio: SIGTERM, the YES reaches Twilio
    (whose webhook fails), start again: the alarm is confirmed and the contact thanked."""
    with fake_twilio_in_a_thread() as (fake, call):
        d = Daemon(tmp_path, carrier={"backend": "twilio", "from_number": TWILIO_NUMBER, "twilio": {
            "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "api_base_url": fake.url, "max_per_second": 100}})
        try:
            site = d.cli("site", "add", "--dealer", "12345", "--name", "Main Office").stdout.split("\t")[0]
            d.cli("contact", "add", "--site", site, "--first-name", "John", "--last-name", "Doe", "--phone", PHONE,
                  "--auto-notify")
            d.start()
            auth = {"Content-Type": "application/json", "Authorization": f"Bearer {d.operator_key()}"}
            status, body = d.request("POST", "/ext/v1/events", json.dumps({"site_id": site, "event_code": "BA"}).encode(),
                                     auth)
            assert status == 201, body
            verification_id = json.loads(body)["data"]["verifications"][0]["verification_id"]
            wait_for(lambda: [r for r in fake.received if r.to == PHONE], "the alarm text at Twilio")
            assert d.stop() == 0
            fake.missed_text(PHONE, "YES")
            d.start()
            auth["Authorization"] = f"Bearer {d.operator_key()}"

            def answered():
                rows = json.loads(d.request("GET", f"/ext/v1/event-log?site_id={site}", headers=auth)[1])["data"]
                return [r for r in rows if r["code"] == "SMSYES"]

            [yes] = wait_for(answered, "the recovered YES in the event log")
            assert yes["details"]["late"] is True and yes["verification_id"] == verification_id
            state = json.loads(d.request("GET", f"/ext/v1/verifications/{verification_id}", headers=auth)[1])["data"]
            assert (state["status"], state["response"]) == ("responded", "confirmed")
            wait_for(lambda: [r for r in fake.received if r.to == PHONE and r.body == CONFIRMED], "the thank-you")
            assert "recovery: 1 text(s) the twilio carrier took while the gateway could not" in d.log.read_text()
        finally:
            d.stop()
            d.close()


@pytest.mark.parametrize("backend", ["twilio"])
async def test_a_pass_twilio_refuses_is_tried_again_later(client, clock, auth, carrier, caplog):
    recovery = client.app[RECOVERY]
    carrier.fake.missed_text(PHONE, "while down")
    token, carrier.fake.auth_token = carrier.fake.auth_token, "0" * 32  # the list answers 401 for a while
    assert await recovery.run_once() == 0
    assert "recovery: the pass failed (Twilio did not list the messages to" in caplog.text
    carrier.fake.auth_token = token
    clock.advance(29)
    assert await recovery.run_once() == 0  # not yet: 30 s between tries
    clock.advance(1)
    assert await recovery.run_once() == 1
    assert [r["comment"] for r in await event_log(client, auth)] == ["while down"]


@pytest.mark.parametrize("backend", ["loopback"], indirect=True)
async def test_a_missed_loopback_text_is_kept_masked_like_every_stored_body(client, config):
    """The loopback carrier keeps missed texts in the gateway's own database: no PIN may stand there."""
    from tests import storage

    resp = await client.post("/carriers/loopback/inbound", json={
        "from": "+15550009999", "body": "STATUS 73918264", "missed": True, "message_id": "LBMISS1"})
    assert resp.status == 202
    assert b"73918264" not in storage.stored_bytes(config.database.url)
