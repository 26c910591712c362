"""The push service worker in a real headless Chromium: registered from the gateway's origin, a push delivered
to it (DevTools' ServiceWorker.deliverPushMessage: subscribing needs a real push service, which this machine
cannot reach) shows the alert with Confirm and Cancel; its click handler, run in the page on the same script,
answers through the one-time link (a real POST to the gateway) or opens the response page.

Without chromium the test skips locally and fails under CI=true, where .ci/run installs it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from gateway.config import Config, Http, Push
from gateway.config.keyword_file import load_keyword_table
from gateway.core.verification_plan import Request, plan_verification
from gateway.model import Contact, OutboundMessage, Site
from gateway.services.responses import response_link
from gateway.stores.records import OutboxItem
from gateway.web.app import create_app
from gateway.web.appkeys import STORE
from tests.cdp import browser_page
from tests.conftest import PHONE, free_port
from tests.test_welcome_browser import need_chromium  # noqa: F401 (a fixture)

TEXT = "Alarm at Main Office, zone 3."


async def evaluate(page, expression: str):
    result = await page.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
    if "exceptionDetails" in result:
        raise AssertionError(result["exceptionDetails"])
    return result["result"].get("value")


async def open_verification(store, clock, public_url: str) -> tuple[str, dict]:
    """A push verification to one contact, and the payload the push sender would encrypt for it."""
    site = await store.add_site(Site(id="site_main", dealer_id="1", name="Main Office", created_at=clock.now()))
    contact = await store.add_contact(Contact(id=0, site_id=site.id, first_name="John", last_name="Doe",
                                              phone=PHONE, created_at=clock.now()))
    table = load_keyword_table(Path(__file__).resolve().parent.parent / "keywords.yaml")
    request = Request(site=site, contacts=[contact], method="push", message=TEXT, subject=None,
                      timeout_seconds=300, require_response=True, event_id=None, alarm=None,
                      push_ready=frozenset([contact.id]))
    decision = plan_verification(request, table.processes[0], table, now=clock.now(), from_phone="+15550000000",
                                 opted_out=set())
    await store.commit(decision)
    verification = decision.opened[0]
    message: OutboundMessage = decision.outbound[0]
    item = OutboxItem(id=1, kind="verification", priority=100, to_phone="", from_phone="", body=message.body,
                      segments=1, attempts=1, created_at=clock.now(), expires_at=message.expires_at,
                      site_id=site.id, contact_id=contact.id, verification_id=verification.id, channel="push")
    link = await response_link(store, public_url, item)
    return verification.id, {"title": "Alarm verification - Acme Monitoring", "body": TEXT, "tag": verification.id,
                             "open": link, "links": {"confirm": f"{link}/confirm", "cancel": f"{link}/cancel"}}


# The worker's script run in the page with the worker's globals stood in for: what it shows and opens is
# recorded; fetch is the page's own, so an answer is a real POST to the gateway.
HARNESS = """(async (payload, action) => {
  const listeners = {}, shown = [], opened = [];
  const worker = {
    addEventListener: (type, handler) => { listeners[type] = handler; },
    skipWaiting: () => {}, clients: {claim: async () => {}, openWindow: async (url) => { opened.push(url); }},
    registration: {showNotification: async (title, options) => { shown.push({title, options}); }},
  };
  new Function("self", await (await fetch("/push/sw.js")).text())(worker);
  const waits = [];
  listeners.push({data: {json: () => payload, text: () => JSON.stringify(payload)}, waitUntil: (p) => waits.push(p)});
  await Promise.all(waits);
  listeners.notificationclick({action: action, notification: {close: () => {}, data: shown[0].options.data},
                               waitUntil: (p) => waits.push(p)});
  await Promise.all(waits);
  return {shown: shown.map((s) => ({title: s.title, body: s.options.body,
                                    actions: (s.options.actions || []).map((a) => a.action)})), opened};
})"""


async def push_server(aiohttp_server, config, clock, tmp_path):
    """The gateway with the push method on, on a fixed free port (the page's origin the browser sees): the server
    and its public URL."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    config = Config(http=Http(port=port, public_url=public), database=config.database, keywords=config.keywords,
                    push=Push(backend="webpush", subject="mailto:ops@acme.test",
                              vapid_private_key_file=str(tmp_path / "vapid.pem")))
    return await aiohttp_server(create_app(config, clock=clock, run_loops=False), port=port), public


async def test_the_service_worker_shows_the_alert_and_answers_it(need_chromium, aiohttp_server, config, clock,  # noqa: F811
                                                                 tmp_path):
    server, public = await push_server(aiohttp_server, config, clock, tmp_path)
    store = server.app[STORE]
    verification_id, payload = await open_verification(store, clock, public)

    async with browser_page(tmp_path / "chromium-profile", tmp_path / "chromium.log") as page:
        await page.send("Page.enable")
        await page.navigate(f"{public}/healthz")
        # the real worker, registered from the gateway's origin, shows the pushed alert with both actions
        await page.send("Browser.grantPermissions", permissions=["notifications"], origin=public)
        scope = await evaluate(page, """navigator.serviceWorker.register('/push/sw.js', {scope: '/push/'})
            .then((r) => new Promise((done) => {
              const worker = r.installing || r.waiting;
              if (!worker) { done(r.scope); return; }
              worker.addEventListener('statechange', () => worker.state === 'activated' && done(r.scope));
            }))""")
        assert scope == f"{public}/push/"
        await page.send("ServiceWorker.enable")
        registration = None
        for _ in range(100):
            found = [e for e in page.events if e["method"] == "ServiceWorker.workerRegistrationUpdated"]
            registration = next((r["registrationId"] for e in found for r in e["params"]["registrations"]
                                 if r["scopeURL"] == scope and not r["isDeleted"]), None)
            if registration:
                break
            await asyncio.sleep(0.05)
        assert registration, "no service worker registration reported"
        # attached, as DevTools is when it pushes: the worker is kept running for the push event
        targets = (await page.send("Target.getTargets"))["targetInfos"]
        worker = next(t for t in targets if t["type"] == "service_worker" and t["url"] == f"{public}/push/sw.js")
        await page.send("Target.attachToTarget", targetId=worker["targetId"], flatten=True)
        await page.send("ServiceWorker.deliverPushMessage", origin=public, registrationId=registration,
                        data=json.dumps(payload))
        shown = []
        for _ in range(40):
            await asyncio.sleep(0.25)
            shown = await evaluate(page, "navigator.serviceWorker.getRegistration('/push/').then((r) => "
                                         "r.getNotifications()).then((ns) => ns.map((n) => ({title: n.title, "
                                         "body: n.body, actions: n.actions.map((a) => a.title), "
                                         "confirm: n.data.links.confirm})))")
            if shown:
                break
            await asyncio.sleep(0.05)
        assert shown == [{"title": payload["title"], "body": TEXT, "actions": ["Confirm", "Cancel"],
                          "confirm": payload["links"]["confirm"]}]

        # a click on "Cancel" answers through the one-time link; a plain click opens the page with both
        clicked = await evaluate(page, f"{HARNESS}({json.dumps(payload)}, 'cancel')")
        assert clicked["shown"][0]["actions"] == ["confirm", "cancel"]
        assert clicked["shown"][1]["title"] == "Alarm cancelled" and clicked["opened"] == []
        again = await evaluate(page, f"{HARNESS}({json.dumps(payload)}, '')")
        assert again["opened"] == [payload["open"]]
        used = await evaluate(page, f"{HARNESS}({json.dumps(payload)}, 'confirm')")
        assert used["opened"] == [payload["links"]["confirm"]]  # the link was used: its page says so

    verification = await store.get_verification(verification_id)
    assert (verification.status, verification.response) == ("responded", "cancelled")


async def test_the_confirmed_welcome_page_loads_its_push_script_and_finds_the_worker(
        need_chromium, aiohttp_client, aiohttp_server, config, clock, tmp_path):  # noqa: F811
    import re

    from gateway.auth.oauth import create_client
    from tests.helpers import deliver, outbox

    server, public = await push_server(aiohttp_server, config, clock, tmp_path)
    client = await aiohttp_client(server)
    store = server.app[STORE]
    site = await store.add_site(Site(id="site_main", dealer_id="12345", name="Main Office", created_at=clock.now()))
    contact = await store.add_contact(Contact(id=0, site_id=site.id, first_name="John", last_name="Doe",
                                              phone=PHONE, created_at=clock.now()))
    client_id, secret = await create_client(store, "12345", None, clock)
    token = (await (await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})).json())
    resp = await client.post(f"/partner/v1/dealers/12345/sites/{site.id}/contacts/{contact.id}/welcome",
                             headers={"Authorization": f"Bearer {token['access_token']}"})
    assert resp.status == 202
    await deliver(client)
    link = re.search(r"http://\S+/welcome/\S+", (await outbox(client, PHONE))[-1]["body"]).group(0)

    async with browser_page(tmp_path / "chromium-profile", tmp_path / "chromium.log") as page:
        await page.send("Page.enable")
        await page.send("Log.enable")
        await page.navigate(link)
        page.events.clear()
        await page.click("button")  # Confirm: the thanks page, at /welcome/TOKEN/confirm
        await page.wait_event("Page.loadEventFired")
        assert await evaluate(page, "document.getElementById('push-subscribe').textContent") == \
            "Also alert me on this device"
        # this browser can take push alerts: the script leaves the button on (a CSP refusing the script would be
        # an error in the log, checked below)
        assert await evaluate(page, "document.getElementById('push-subscribe').disabled") is False
        # the button's relative URLs name the gateway's worker and subscription path from this page too
        scope = await evaluate(page, "(() => { const b = document.getElementById('push-subscribe'); "
                                     "return navigator.serviceWorker.register(b.dataset.worker, "
                                     "{scope: b.dataset.scope}).then((r) => r.scope); })()")
        assert scope == f"{public}/push/"
        action = await evaluate(page, "new URL(document.getElementById('push-subscribe').dataset.action, "
                                      "location.href).href")
        assert action == link + "/push"
        problems = [e["params"]["entry"] for e in page.events if e["method"] == "Log.entryAdded"
                    and e["params"]["entry"]["level"] == "error"]
        assert problems == []
