"""The welcome confirmation in a real headless Chromium: open the texted link, press Confirm.

Screenshots land in tests/artifacts/ (git-ignored). Without chromium the test skips locally
and fails under CI=true, where .ci/run installs it.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest

from gateway.auth.apikeys import create_key
from gateway.config import Config, Http, Welcome
from gateway.model import Contact, Site
from gateway.auth.oauth import create_client
from gateway.web.app import create_app
from gateway.web.appkeys import STORE
from tests.cdp import browser_page, chromium
from tests.conftest import PHONE, free_port
from tests.helpers import deliver, event_log, outbox

ARTIFACTS = Path(__file__).parent / "artifacts"
LOGO = "data:image/svg+xml;base64," + base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><path d="M32 4 8 14v16c0 15 10 26 24 30 '
    b'14-4 24-15 24-30V14z" fill="#1f5fbf"/><path d="m20 32 8 8 16-16" stroke="#fff" stroke-width="6" '
    b'fill="none"/></svg>').decode()


@pytest.fixture
def need_chromium():
    if chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: .ci/run should have installed it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")


async def test_contact_confirms_the_welcome_in_chromium(need_chromium, aiohttp_client, aiohttp_server, config,
                                                         clock, tmp_path):
    port = free_port()
    config = Config(http=Http(port=port, public_url=f"http://127.0.0.1:{port}"), database=config.database,
                    keywords=config.keywords, welcome=Welcome(
                        logo_url=LOGO, video_url="https://videos.example.com/intro",
                        central_station="Acme Monitoring"))
    server = await aiohttp_server(create_app(config, clock=clock, run_loops=False), port=port)
    client = await aiohttp_client(server)
    store = server.app[STORE]
    site = await store.add_site(Site(id="site_main", dealer_id="12345", name="Main Office", created_at=clock.now()))
    contact = await store.add_contact(Contact(id=0, site_id=site.id, first_name="John", last_name="Doe",
                                              phone=PHONE, auto_notify=True, created_at=clock.now()))
    auth = {"Authorization": f"Bearer {await create_key(store, 'tests', clock)}"}
    client_id, secret = await create_client(store, "12345", None, clock)
    token = (await (await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})).json())
    partner = {"Authorization": f"Bearer {token['access_token']}"}
    contact_url = f"/partner/v1/dealers/12345/sites/{site.id}/contacts/{contact.id}"
    assert (await client.post(contact_url + "/welcome", headers=partner)).status == 202
    await deliver(client)
    link = re.search(r"http://\S+/welcome/\S+", (await outbox(client, PHONE))[-1]["body"]).group(0)

    async with browser_page(tmp_path / "chromium-profile", tmp_path / "chromium.log") as page:
        await page.send("Page.enable")
        await page.send("Log.enable")
        await page.send("Emulation.setDeviceMetricsOverride", width=390, height=760, deviceScaleFactor=1,
                        mobile=True)
        await page.navigate(link)
        assert await page.evaluate("document.querySelector('header h1').textContent") == "Acme Monitoring"
        assert await page.evaluate("document.querySelector('h2').textContent") == "Welcome, John"
        assert await page.evaluate("document.querySelector('header img').naturalWidth") > 0
        assert await page.evaluate("getComputedStyle(document.querySelector('button')).backgroundColor") == \
            "rgb(31, 95, 191)"  # the inline style passed the CSP
        assert await page.evaluate("document.querySelector('a.video').href") == "https://videos.example.com/intro"
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        await page.screenshot(ARTIFACTS / "welcome-page.png")
        page.events.clear()
        await page.click("button")
        await page.wait_event("Page.loadEventFired")
        assert await page.evaluate("document.querySelector('h2').textContent") == "Thank you, John!"
        await page.screenshot(ARTIFACTS / "welcome-confirmed.png")
        problems = [e["params"]["entry"] for e in page.events if e["method"] == "Log.entryAdded"
                    and e["params"]["entry"]["level"] == "error"]
        assert problems == []

    resp = await client.get(contact_url, headers=partner)
    assert (await resp.json())["verification"]["welcome"] == "confirmed"
    assert [r["code"] for r in await event_log(client, auth, site.id)] == ["WELCOMESENT", "WELCOMECONF"]
