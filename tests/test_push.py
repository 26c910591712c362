"""The push method: VAPID key, subscriptions from the welcome page, alerts a fake push service checks and
decrypts, answers through the one-time links, and the push service's 410 and 429."""

from __future__ import annotations

import re
import stat

import msgspec
import pytest

from gateway.config import Push
from gateway.web.app import create_app
from gateway.web.appkeys import STORE
from tests.fake_push import FakePushService
from tests.helpers import codes, deliver, event_log, outbox
from tests.test_welcome import link_sent, send_welcome

TEXT = "Alarm at Main Office, zone 3."


@pytest.fixture
async def service(clock):
    async with FakePushService(clock.now) as fake:
        yield fake


@pytest.fixture
def config(config, tmp_path):
    return msgspec.structs.replace(config, push=Push(backend="webpush", subject="mailto:ops@acme.test",
                                                     vapid_private_key_file=str(tmp_path / "vapid.pem")))


async def subscribe(client, partner, site, contact, browser) -> None:
    await send_welcome(client, partner, site, contact)
    _, token = await link_sent(client)
    resp = await client.post(f"/welcome/{token}/push", json=browser.subscription,
                             headers={"Origin": "http://127.0.0.1:8080"})
    assert resp.status == 201, await resp.text()


async def push(client, auth, site, contact, **fields) -> dict:
    resp = await client.post("/ext/v1/verifications", headers=auth, json={
        "site_id": site.id, "contacts": [contact.id], "method": "push", "message": TEXT, "timeout_seconds": 120,
        **fields})
    assert resp.status == 200, await resp.text()
    await deliver(client)
    return (await resp.json())["data"]


async def status(client, auth, verification_id: str) -> dict:
    data = (await (await client.get(f"/ext/v1/verifications/{verification_id}", headers=auth)).json())["data"]
    return data | {"recipient": data["sent_to"][0]}


async def test_the_key_pair_is_made_on_first_start_and_kept(client, config, tmp_path):
    path = tmp_path / "vapid.pem"
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = (await (await client.get("/push/vapid-public-key")).json())["public_key"]
    assert len(key) == 87 and re.fullmatch(r"[A-Za-z0-9_-]+", key)  # 65 bytes, base64url
    from gateway.push.vapid import load_key, public_key

    assert public_key(load_key(path, create=False)) == key


async def test_an_alert_is_signed_encrypted_and_answered_by_its_confirm_link(client, auth, partner, site, contact,
                                                                             service):
    browser = service.browser()
    await subscribe(client, partner, site, contact, browser)
    data = await push(client, auth, site, contact)
    assert service.refused == []
    [pushed] = service.pushed
    assert pushed.payload["body"] == TEXT and pushed.payload["tag"] == data["verification_id"]
    assert pushed.headers["TTL"] == "120" and pushed.headers["Urgency"] == "high"
    assert pushed.claims["sub"] == "mailto:ops@acme.test"
    links = pushed.payload["links"]
    assert set(links) == {"confirm", "cancel"} and pushed.payload["open"] + "/confirm" == links["confirm"]
    assert (await status(client, auth, data["verification_id"]))["recipient"]["status"] == "sent"
    page = await client.get(pushed.payload["open"].split("8080", 1)[1])  # no actions shown: the page with both
    html = await page.text()
    assert page.status == 200 and TEXT in html and "Confirm the alarm" in html and "Cancel the alarm" in html
    answered = await client.post(links["confirm"].split("8080", 1)[1])
    assert answered.status == 200
    got = await status(client, auth, data["verification_id"])
    assert (got["status"], got["response"], got["responded_by"]) == ("responded", "confirmed", contact.id)
    assert codes(await event_log(client, auth, site.id))[-1] == "SMSYES"  # what a YES text logs
    row = (await event_log(client, auth, site.id))[-1]
    assert row["comment"] == "confirmed by push notification" and row["details"]["channel"] == "push"


async def test_a_gone_subscription_is_removed_and_logged(client, store, auth, partner, site, contact, service):
    browser = service.browser()
    await subscribe(client, partner, site, contact, browser)
    service.answers = [410]
    data = await push(client, auth, site, contact)
    assert await store.push_subscriptions(contact.id) == []
    got = await status(client, auth, data["verification_id"])
    assert got["recipient"]["status"] == "failed"
    assert {"PUSHGONE", "SMSFAIL"} <= set(codes(await event_log(client, auth, site.id)))
    resp = await client.post("/ext/v1/verifications", headers=auth, json={
        "site_id": site.id, "contacts": [contact.id], "method": "push", "message": TEXT})
    assert resp.status == 422 and (await resp.json())["error"]["code"] == "DELIVERY_FAILED"


async def test_a_busy_push_service_is_retried_by_the_outbox(client, clock, auth, partner, site, contact, service):
    browser = service.browser()
    await subscribe(client, partner, site, contact, browser)
    service.answers = [429, 503]
    data = await push(client, auth, site, contact)
    assert service.pushed == [] and (await status(client, auth, data["verification_id"]))["recipient"]["status"] \
        == "pending"
    for _ in range(2):
        clock.advance(30)
        await deliver(client)
    assert len(service.pushed) == 1
    assert (await status(client, auth, data["verification_id"]))["recipient"]["status"] == "sent"


async def test_a_subscription_must_come_from_the_page_and_be_a_browsers(client, partner, site, contact, service):
    await send_welcome(client, partner, site, contact)
    _, token = await link_sent(client)
    good = service.browser().subscription
    bad_key = {**good, "keys": {**good["keys"], "p256dh": "AAAA"}}
    ftp = {**good, "endpoint": "ftp://push.example.com/x"}
    for body, headers, expected in (
            (good, {"Origin": "https://evil.example"}, 403), (bad_key, {}, 422), (ftp, {}, 422),
            ({"endpoint": good["endpoint"]}, {}, 422)):
        resp = await client.post(f"/welcome/{token}/push", json=body, headers=headers)
        assert resp.status == expected, (body, await resp.text())
    assert (await client.post("/welcome/not-a-token/push", json=good)).status == 404
    resp = await client.post(f"/welcome/{token}/push", data="endpoint=x",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 415


async def test_the_confirmed_welcome_page_offers_push(client, partner, site, contact):
    await send_welcome(client, partner, site, contact)
    _, token = await link_sent(client)
    confirmed = await client.post(f"/welcome/{token}/confirm")
    html = await confirmed.text()
    assert "Also alert me on this device" in html and 'src="../../push/subscribe.js"' in html
    assert f'data-action="../../welcome/{token}/push"' in html
    assert "script-src 'self'" in confirmed.headers["Content-Security-Policy"]
    again = await client.get(f"/welcome/{token}")
    assert f'data-action="../welcome/{token}/push"' in await again.text()
    script = await client.get("/push/sw.js")
    assert script.status == 200 and script.content_type == "application/javascript"


async def test_without_a_push_backend_the_method_is_refused(aiohttp_client, config, clock, tmp_path):
    from gateway.auth.apikeys import create_key
    from gateway.config import Database
    from gateway.model import Contact, Site

    off_config = msgspec.structs.replace(config, push=Push(),
                                         database=Database(url=f"sqlite:///{tmp_path / 'off.sqlite3'}"))
    off = await aiohttp_client(create_app(off_config, clock=clock, run_loops=False))
    store = off.app[STORE]
    auth = {"Authorization": f"Bearer {await create_key(store, 'tests', clock)}"}
    site = await store.add_site(Site(id="s1", dealer_id="1", name="Main Office", created_at=clock.now()))
    contact = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Ann", last_name="Lee",
                                              phone="+15550123456", created_at=clock.now()))
    resp = await off.post("/ext/v1/verifications", headers=auth, json={
        "site_id": site.id, "contacts": [contact.id], "method": "push", "message": TEXT})
    assert resp.status == 422 and (await resp.json())["error"]["code"] == "UNSUPPORTED_METHOD"
    assert (await off.get("/push/vapid-public-key")).status == 404
    assert await outbox(off) == []
