"""The operator console's pages, read as an operator would (aiohttp test client; the browser test is
tests/test_console_browser.py)."""

from __future__ import annotations

import re

import pytest

from gateway.auth.apikeys import create_key
from gateway.model import Contact, PhoneLookup
from tests.conftest import OTHER_PHONE, PHONE
from tests.console_helpers import signed_in
from tests.helpers import deliver, event_log, outbox, post_alarm, text

LANDLINE = "+15005550009"  # refused by the loopback carrier with Twilio's 21614


@pytest.fixture
async def csrf(client, store, clock) -> str:
    return await signed_in(client, await create_key(store, "staff", clock))


def card(html: str, contact_id: int) -> str:
    return re.search(rf'<article class="card" id="contact-{contact_id}">.*?</article>', html, re.S).group(0)


async def welcome(client, csrf, site, contact) -> None:
    resp = await client.post(f"/console/sites/{site.id}/contacts/{contact.id}/welcome", data={"csrf": csrf},
                             allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith(f"/console/sites/{site.id}?welcomed=")
    await deliver(client)


async def test_contacts_show_the_guides_banners(client, csrf, auth, store, site, contact, clock):
    await store.save_lookup(PhoneLookup(phone=PHONE, valid=True, line_type="mobile", looked_up_at=clock.now()))
    landline = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Lana", last_name="Line",
                                               phone=LANDLINE, created_at=clock.now()))
    await welcome(client, csrf, site, contact)
    await welcome(client, csrf, site, landline)
    html = await (await client.get(f"/console/sites/{site.id}")).text()
    assert '<li class="banner yellow">Pending confirmation' in card(html, contact.id)
    link = re.search(r"http://\S+/welcome/(\S+)", (await outbox(client, PHONE))[-1]["body"]).group(1)
    assert (await client.post(f"/welcome/{link}/confirm")).status == 200
    html = await (await client.get(f"/console/sites/{site.id}")).text()
    john = card(html, contact.id)
    assert '<li class="banner green">Valid number <span>Line type: mobile.</span></li>' in john
    assert '<li class="banner blue">Confirmed' in john and "yellow" not in john
    lana = card(html, landline.id)
    assert ('<li class="banner red">Send error <span>21614 not a mobile number: The number is a landline or cannot '
            "take texts.</span></li>") in lana
    assert "Last failed text" not in lana  # the banner says it already
    await client.post("/ext/v1/dispatches", headers=auth, json={"site_id": site.id, "contacts": [landline.id],
                                                                "text": "Police dispatched."})
    await deliver(client)
    lana = card(await (await client.get(f"/console/sites/{site.id}")).text(), landline.id)
    assert "Last failed text (dispatch, 2026-01-15 15:30:00 UTC): 21614 not a mobile number" in lana


async def test_the_welcome_text_is_sent_again_from_the_contact(client, csrf, site, contact, auth):
    await welcome(client, csrf, site, contact)
    await welcome(client, csrf, site, contact)
    assert [m["body"].split(" Please")[0] for m in await outbox(client, PHONE)] == [
        "Acme Monitoring: Hello John, you are now an alarm contact for Main Office."] * 2
    assert [r["code"] for r in await event_log(client, auth, site.id)] == ["WELCOMESENT", "WELCOMESENT"]
    html = await (await client.get(f"/console/sites/{site.id}?welcomed=John%20Doe")).text()
    assert "The welcome text is queued for John Doe." in html and "Send the welcome text again" in html


async def test_live_alarms_show_each_recipient_and_change_when_a_yes_arrives(client, csrf, auth, site, contact):
    await post_alarm(client, auth, site.id, zone="3", text="Motion, hallway")
    await deliver(client)
    page = await client.get("/console/")
    html = await page.text()
    assert "Waiting for an answer (1)" in html and '<section id="alarms" data-live' in html
    part = await (await client.get("/console/?part=alarms")).text()
    assert part.startswith('<section id="alarms"') and "<html" not in part
    assert '<td>John Doe</td><td>sms: +15550123456</td><td><span class="chip blue">sent</span>' in part
    await text(client, PHONE, "YES")
    part = await (await client.get("/console/?part=alarms")).text()
    assert "Waiting for an answer (0)" in part and '<span class="chip blue">Confirmed by John Doe</span>' in part
    assert '<span class="chip blue">confirmed</span>' in part


async def test_history_folds_a_notifications_rows_and_opens_recipients_and_exact_text(client, csrf, auth, store,
                                                                                      site, contact, clock):
    await store.add_contact(Contact(id=0, site_id=site.id, first_name="Jane", last_name="Roe", phone=OTHER_PHONE,
                                    auto_notify=True, created_at=clock.now()))
    v = (await post_alarm(client, auth, site.id, zone="3", text="Motion, hallway"))["verifications"][0]
    await deliver(client)
    await text(client, OTHER_PHONE, "NO")
    html = await (await client.get(f"/console/sites/{site.id}/history")).text()
    rows = re.findall(r"<tr><td>.*?</tr>", html, re.S)
    assert [re.search(r"</td><td>(\w+)", r).group(1) for r in rows] == ["SMSNO", "SMSSENT", "BA"]
    assert "John Doe, Jane Roe" in rows[1] and "2 texts" in rows[1]
    link = f"/console/sites/{site.id}/verifications/{v['verification_id']}"
    assert f'<a href="{link}">Notification</a>' in rows[1]
    notice = await (await client.get(link)).text()
    sent = (await outbox(client, PHONE))[0]["body"]
    assert f"<pre>{sent}</pre>" in notice.replace("&#x27;", "'")
    assert '<span class="chip grey">Cancelled by Jane Roe</span>' in notice
    assert [c for c in re.findall(r"<td>(SMS\w+)</td>", notice)] == ["SMSSENT", "SMSSENT", "SMSNO"]
    assert (await client.get(f"/console/sites/elsewhere/verifications/{v['verification_id']}")).status == 404


async def test_dispatch_from_a_template_edited_then_its_replies(client, csrf, auth, store, site, contact, clock):
    form = await (await client.get(f"/console/sites/{site.id}/dispatch?template=police-dispatched")).text()
    assert "{central_station}: police have been dispatched to {site_name}. Ref {reference}.</textarea>" in form
    assert '<label for="var-reference">reference</label>' in form
    resp = await client.post(f"/console/sites/{site.id}/dispatch", allow_redirects=False, data={
        "csrf": csrf, "template": "police-dispatched", "contact": str(contact.id), "var:reference": "R-17",
        "text": "{first_name}: police are on the way to {site_name}. Ref {reference}. Reply if you can meet them."})
    assert resp.status == 303
    dispatch_page = resp.headers["Location"]
    await deliver(client)
    assert [m["body"] for m in await outbox(client, PHONE)] == [
        "John: police are on the way to Main Office. Ref R-17. Reply if you can meet them."]
    await text(client, PHONE, "I am 5 minutes away")
    html = await (await client.get(dispatch_page)).text()
    assert "police-dispatched · code SMSDISP" in html
    part = await (await client.get(dispatch_page + "?part=replies")).text()
    assert "<td>John Doe</td><td><pre>I am 5 minutes away</pre></td>" in part and "window open" in part
    assert [r["code"] for r in await event_log(client, auth, site.id)] == ["SMSDISP", "SMSReply"]


async def test_a_dispatch_the_service_refuses_shows_the_form_again_with_why(client, csrf, site, contact):
    url = f"/console/sites/{site.id}/dispatch"
    resp = await client.post(url, data={"csrf": csrf, "template": "police-dispatched", "contact": str(contact.id),
                                        "text": "Ref {reference", "var:reference": "R-1"})
    assert resp.status == 422
    html = await resp.text()
    assert "The text is not a valid template" in html and 'value="R-1"' in html and "Ref {reference</textarea>" in html
    resp = await client.post(url, data={"csrf": csrf, "text": "Hello"})
    assert resp.status == 422 and "Choose at least one contact." in await resp.text()
    assert "Hello</textarea>" in await resp.text()


async def test_outbox_health_counts_failures_by_code_in_words(client, csrf, auth, store, site, clock):
    landline = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Lana", last_name="Line",
                                               phone=LANDLINE, created_at=clock.now()))
    await client.post("/ext/v1/dispatches", headers=auth, json={"site_id": site.id, "contacts": [landline.id],
                                                                "text": "Police dispatched."})
    html = await (await client.get("/console/health")).text()
    assert "Outbox depth: <strong>1</strong>" in html and "<td>dispatch</td><td>0 s</td>" in html
    assert "Canary: not configured" in html and "No text failed in the last hour." in html
    await deliver(client)
    clock.advance(minutes=5)
    html = await (await client.get("/console/health?part=health")).text()
    assert "<td>21614 not a mobile number</td><td>1</td><td>The number is a landline" in html
    assert "Nothing is queued." in html
    clock.advance(minutes=56)
    assert "No text failed in the last hour." in await (await client.get("/console/health")).text()


async def test_what_people_typed_is_shown_as_text_never_as_markup(client, csrf, auth, store, site, clock):
    evil = await store.add_contact(Contact(id=0, site_id=site.id, first_name="<script>alert(1)</script>",
                                           last_name="<b>", phone=PHONE, created_at=clock.now()))
    await text(client, PHONE, "<img src=x onerror=alert(1)>")
    site_page = await (await client.get(f"/console/sites/{site.id}")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;" in site_page and "<script>alert" not in site_page
    history = await (await client.get(f"/console/sites/{site.id}/history")).text()
    assert "<img src=x" not in history and evil.id
