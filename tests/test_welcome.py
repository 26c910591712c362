"""The welcome text, page and confirmation over HTTP (the real browser run is test_welcome_browser.py)."""

from __future__ import annotations

import re

import pytest

from gateway.config import Config, Welcome
from gateway.errors import CarrierError
from gateway.web.app import create_app
from gateway.web.appkeys import CARRIER, SENDER
from tests import storage
from tests.conftest import PHONE
from tests.helpers import assert_locked_down_page, deliver, event_log, outbox
from tests.test_outbox import ScriptedCarrier
from tests.webhook_receiver import deliver_webhooks, subscribed

BASE = "/partner/v1/dealers/12345/sites"
LINK = re.compile(r"(http://\S+/welcome/([A-Za-z0-9_-]+))")


async def send_welcome(client, partner, site, contact, trace="trace-welcome"):
    resp = await client.post(f"{BASE}/{site.id}/contacts/{contact.id}/welcome",
                             headers={**partner, "x-partner-trace-id": trace})
    assert resp.status == 202, await resp.text()
    return await resp.json()


async def link_sent(client) -> tuple[str, str]:
    await deliver(client)
    messages = await outbox(client, PHONE)
    url, token = LINK.search(messages[-1]["body"]).groups()
    return url, token


async def state(client, partner, site, contact) -> dict:
    resp = await client.get(f"{BASE}/{site.id}/contacts/{contact.id}", headers=partner)
    return (await resp.json())["verification"]


@pytest.fixture
def config(config, receiver, tmp_path):
    """A webhook subscriber, to see the confirmation as a subscriber does."""
    return subscribed(config, receiver, tmp_path)


async def test_welcome_round_trip(client, partner, auth, site, contact, config, receiver):
    body = await send_welcome(client, partner, site, contact)
    assert body["verification"] == {"phone": "unknown", "welcome": "pending", "send_error": None}
    url, token = await link_sent(client)
    assert url == f"{config.http.public_url}/welcome/{token}" and len(token) >= 43
    page = await client.get(f"/welcome/{token}")
    assert page.status == 200 and page.content_type == "text/html"
    html = await page.text()
    assert "Acme Monitoring" in html and "Welcome, John" in html and "Main Office" in html
    assert f'action="{token}/confirm"' in html
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert_locked_down_page(page, html)
    confirmed = await client.post(f"/welcome/{token}/confirm", headers={"x-partner-trace-id": "trace-confirm"})
    assert confirmed.status == 200 and "Thank you, John" in await confirmed.text()
    assert await state(client, partner, site, contact) == {"phone": "unknown", "welcome": "confirmed",
                                                           "send_error": None}
    rows = await event_log(client, auth, site.id)
    assert [(r["code"], r["trace_id"]) for r in rows] == [("WELCOMESENT", "trace-welcome"),
                                                           ("WELCOMECONF", "trace-confirm")]
    again = await client.post(f"/welcome/{token}/confirm")
    assert again.status == 200 and len(await event_log(client, auth, site.id)) == 2
    await deliver_webhooks(client)
    assert receiver.payloads() == [{"event_type": "contact.confirmed", "data": {
        "contact_id": contact.id, "external_contact_id": None, "site_id": site.id,
        "confirmed_at": "2026-01-15T15:30:00.000Z"}}]
    assert "Thank you" in await (await client.get(f"/welcome/{token}")).text()


async def test_unknown_expired_and_replaced_tokens_get_the_same_404_page(client, partner, partner_token, site, contact,
                                                                         clock):
    await send_welcome(client, partner, site, contact)
    _, first = await link_sent(client)
    await send_welcome(client, partner, site, contact)
    _, second = await link_sent(client)
    unknown = await client.get("/welcome/" + "A" * 43)
    replaced = await client.get(f"/welcome/{first}")
    clock.advance(days=14)
    expired = await client.get(f"/welcome/{second}")
    expired_confirm = await client.post(f"/welcome/{second}/confirm")
    pages = [unknown, replaced, expired, expired_confirm]
    assert {p.status for p in pages} == {404}
    texts = {await p.text() for p in pages}
    assert len(texts) == 1 and "not valid" in texts.pop()
    assert (await state(client, await partner_token(), site, contact))["welcome"] == "pending"


async def test_everything_on_the_page_is_escaped(aiohttp_client, config, clock, store):
    from gateway.model import Contact, Site
    from gateway.auth.oauth import create_client

    config = Config(http=config.http, database=config.database, keywords=config.keywords, welcome=Welcome(
        central_station="<b>Evil & Co</b>", message="<script>alert(1)</script>",
        video_url='https://video.example/intro?a=1&b="x"', logo_url="https://cdn.example/logo.png"))
    client = await aiohttp_client(create_app(config, clock=clock, run_loops=False))
    from gateway.web.appkeys import STORE

    store = client.app[STORE]
    site = await store.add_site(Site(id="site_x", dealer_id="1", name="<i>Site</i>", created_at=clock.now()))
    contact = await store.add_contact(Contact(id=0, site_id=site.id, first_name="<img src=x>", last_name="D",
                                              phone=PHONE, created_at=clock.now()))
    client_id, secret = await create_client(store, "1", None, clock)
    token = (await (await client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                            "client_id": client_id, "client_secret": secret}))
             .json())["access_token"]
    resp = await client.post(f"/partner/v1/dealers/1/sites/{site.id}/contacts/{contact.id}/welcome",
                             headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 202
    _, link_token = await link_sent(client)
    page = await client.get(f"/welcome/{link_token}")
    html = await page.text()
    for raw in ("<b>Evil", "<script>", "<i>Site", "<img src=x>", '"x"'):
        assert raw not in html
    assert "&lt;script&gt;" in html and "https://video.example/intro?a=1&amp;b=&quot;x&quot;" in html
    assert "img-src https://cdn.example;" in page.headers["Content-Security-Policy"]


async def test_welcome_without_a_phone_is_422(client, partner, site, store, clock):
    from gateway.model import Contact

    contact = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Mail", last_name="Only",
                                              email="m@example.com", created_at=clock.now()))
    resp = await client.post(f"{BASE}/{site.id}/contacts/{contact.id}/welcome", headers=partner)
    body = await resp.json()
    assert resp.status == 422 and body["error"]["code"] == "NO_PHONE_NUMBER"
    assert body["error"]["details"] == {"field": "phone_number"}


@pytest.mark.parametrize("error", [CarrierError("Landline or unreachable carrier", retryable=False, code="30006")])
async def test_a_welcome_text_the_outbox_gives_up_on_shows_send_error(client, app, partner, site, contact, error):
    app[SENDER].carrier = ScriptedCarrier(app[CARRIER].services, [error])
    await send_welcome(client, partner, site, contact)
    await deliver(client)
    assert await state(client, partner, site, contact) == {
        "phone": "unknown", "welcome": "send_error", "send_error": "Landline or unreachable carrier"}
    app[SENDER].carrier = ScriptedCarrier(app[CARRIER].services, [])
    await send_welcome(client, partner, site, contact)
    assert (await state(client, partner, site, contact))["welcome"] == "pending"


async def test_a_new_phone_number_resets_the_welcome(client, partner, site, contact):
    await send_welcome(client, partner, site, contact)
    resp = await client.put(f"{BASE}/{site.id}/contacts/{contact.id}", json={"phone_number": "+15550199999"},
                            headers=partner)
    assert (await resp.json())["verification"]["welcome"] == "none"


async def test_deleting_the_contact_voids_its_link(client, partner, site, contact):
    await send_welcome(client, partner, site, contact)
    _, token = await link_sent(client)
    assert (await client.delete(f"{BASE}/{site.id}/contacts/{contact.id}", headers=partner)).status == 204
    assert (await client.get(f"/welcome/{token}")).status == 404


@pytest.mark.parametrize("yaml_text, problem", [
    ("welcome: {logo_url: 'javascript:alert(1)'}", "welcome.logo_url: 'javascript:alert(1)' is not an http(s)://"),
    ("welcome: {video_url: 'ftp://x/y'}", "welcome.video_url: 'ftp://x/y' is not an http:// or https:// URL"),
    ("welcome: {text: 'Hello {first_name}'}", "welcome.text: the text must contain {link}"),
    ("welcome: {text: '{link} {pin}'}", "welcome.text: unknown placeholder(s) pin"),
    ("welcome: {token_days: 0}", "welcome.token_days"),
])
def test_welcome_config_problems_name_the_key(yaml_text, problem):
    from gateway.config import ConfigFileError, parse_config

    with pytest.raises(ConfigFileError) as caught:
        parse_config(yaml_text + "\n", "g.yaml")
    assert problem in "\n".join(str(p) for p in caught.value.problems)


async def test_the_outbox_never_holds_the_link_token(client, partner, site, contact, config):
    await send_welcome(client, partner, site, contact)
    [queued] = [row["body"] for row in storage.rows(config.database.url, "outbound_messages")
                if row["kind"] == "welcome"]
    assert [row["token_hash"] for row in storage.rows(config.database.url, "contact_welcome")] == [None]
    assert "{link}" in queued
    _, token = await link_sent(client)  # minted as the carrier got the text
    dump = storage.dump_text(config.database.url)
    assert token in (await outbox(client, PHONE))[-1]["body"]  # the carrier's own record of what it sent
    assert dump.count(token) == 1  # only there: the loopback carrier's table, not the gateway's outbox
    assert (await client.get(f"/welcome/{token}")).status == 200
