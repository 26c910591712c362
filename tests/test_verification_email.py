"""The email method end to end: a real SMTP server on 127.0.0.1, the link, the page, the answer."""

from __future__ import annotations

import re

import msgspec
import pytest

from gateway.auth.apikeys import create_key
from gateway.config import Email
from gateway.model import Contact, Site
from gateway.web.app import create_app
from gateway.web.appkeys import STORE
from tests.helpers import assert_locked_down_page, deliver, event_log, post_alarm, scrape
from tests.smtpserver import SMTPServer


@pytest.fixture
async def smtp():
    async with SMTPServer() as server:
        yield server


async def mail_client(aiohttp_client, config, clock, port: int):
    """An app that mails through the SMTP server on ``port``, and an API key for it."""
    config = msgspec.structs.replace(config, email=Email(backend="smtp", host="127.0.0.1", port=port,
                                                         starttls=False, from_address="alarms@acme.test"))
    client = await aiohttp_client(create_app(config, clock=clock, run_loops=False))
    return client, {"Authorization": f"Bearer {await create_key(client.app[STORE], 'tests', clock)}"}


@pytest.fixture
async def mailing(aiohttp_client, config, clock, smtp):
    client, auth = await mail_client(aiohttp_client, config, clock, smtp.port)
    store = client.app[STORE]
    site = await store.add_site(Site(id="site_main", dealer_id="1", name="Main Office", created_at=clock.now()))
    anna = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Anna", last_name="Lee",
                                           phone="+15550123456", email="anna@example.com", auto_notify=True,
                                           email_notify=True, created_at=clock.now()))
    return client, auth, site, anna


def links(message) -> dict[str, str]:
    body = message.get_body(("plain",)).get_content()
    return {m.group(1): m.group(0) for m in re.finditer(r"http://[^\s]+/v/[^\s/]+/(confirm|cancel)", body)}


async def test_email_verification_confirmed_by_link(mailing, smtp):
    client, auth, site, anna = mailing
    resp = await client.post("/ext/v1/verifications", headers=auth, json={
        "site_id": site.id, "contacts": [anna.id], "method": "email", "subject": "Security System Alert",
        "message": "Alarm at Main Office. Confirm or cancel."})
    data = (await resp.json())["data"]
    assert resp.status == 200 and data["sent_to"][0]["email"] == "anna@example.com"
    await deliver(client)
    [message] = smtp.messages
    assert message["Subject"] == "Security System Alert" and message["To"] == "anna@example.com"
    found = links(message)
    assert set(found) == {"confirm", "cancel"}
    path = found["confirm"].split("127.0.0.1", 1)[1].split("/", 1)[1]
    page = await client.get("/" + path)
    assert page.status == 200 and "Confirm the alarm" in await page.text()
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert_locked_down_page(page, await page.text())
    answer = await client.post("/" + path)
    assert answer.status == 200 and "confirmed" in await answer.text()
    assert_locked_down_page(answer, await answer.text())
    got = (await (await client.get(f"/ext/v1/verifications/{data['verification_id']}", headers=auth)).json())["data"]
    assert (got["status"], got["response"], got["responded_by"]) == ("responded", "confirmed", anna.id)
    row = (await event_log(client, auth, site.id))[-1]
    assert (row["code"], row["comment"], row["details"]["channel"]) == ("SMSYES", "confirmed by email link", "email")
    again = await client.post("/" + path)
    assert again.status == 404  # one use only
    other = await client.get("/" + found["cancel"].split("127.0.0.1", 1)[1].split("/", 1)[1])
    assert other.status == 404  # the verification is answered: the cancel link is dead too


async def test_an_answer_by_link_is_counted_as_an_answer_by_text_is(mailing, smtp, clock):
    client, auth, site, anna = mailing
    await client.post("/ext/v1/verifications", headers=auth, json={
        "site_id": site.id, "contacts": [anna.id], "method": "email"})
    await deliver(client)
    path = links(smtp.messages[0])["cancel"].split("127.0.0.1", 1)[1].split("/", 1)[1]
    clock.advance(42)
    assert (await client.post("/" + path)).status == 200
    samples = await scrape(client)
    assert samples[("gateway_verifications_total", (("outcome", "cancelled"),))] == 1.0
    assert samples[("gateway_verification_response_seconds_count", ())] == 1.0
    assert samples[("gateway_verification_response_seconds_sum", ())] == 42.0


async def test_alarm_emails_contacts_with_the_email_box(mailing, smtp):
    client, auth, site, anna = mailing
    data = await post_alarm(client, auth, site.id, "BA", text="Motion")
    assert {r["channel"] for r in data["verifications"][0]["sent_to"]} == {"sms", "email"}
    await deliver(client)
    assert [m["To"] for m in smtp.messages] == ["anna@example.com"]
    assert smtp.messages[0]["Subject"] == "ALARM at Main Office"


async def test_links_die_with_the_verification(mailing, smtp, clock):
    client, auth, site, anna = mailing
    await client.post("/ext/v1/verifications", headers=auth, json={
        "site_id": site.id, "contacts": [anna.id], "method": "email", "timeout_seconds": 60})
    await deliver(client)
    path = links(smtp.messages[0])["cancel"].split("127.0.0.1", 1)[1].split("/", 1)[1]
    clock.advance(61)
    assert (await client.get("/" + path)).status == 404
    assert (await client.post("/" + path)).status == 404
    assert (await client.get("/v/made-up-token/confirm")).status == 404


async def test_mail_server_refusal_fails_the_recipient(aiohttp_client, config, clock):
    async with SMTPServer(reply="550 5.1.1 no such user", reply_at="RCPT") as server:
        client, auth = await mail_client(aiohttp_client, config, clock, server.port)
        store = client.app[STORE]
        site = await store.add_site(Site(id="s", dealer_id="1", name="S", created_at=clock.now()))
        anna = await store.add_contact(Contact(id=0, site_id="s", first_name="A", last_name="L",
                                               email="nobody@example.com", created_at=clock.now()))
        data = (await (await client.post("/ext/v1/verifications", headers=auth, json={
            "site_id": site.id, "contacts": [anna.id], "method": "email"})).json())["data"]
        await deliver(client)
        got = (await (await client.get(f"/ext/v1/verifications/{data['verification_id']}", headers=auth)).json())
        assert got["data"]["status"] == "failed" and got["data"]["sent_to"][0]["status"] == "failed"
        assert "550" in got["data"]["sent_to"][0]["error"] or "no such user" in got["data"]["sent_to"][0]["error"]


async def test_with_two_alarms_open_the_emails_links_answer_their_own_and_carry_no_reference(mailing, smtp, clock):
    client, auth, site, anna = mailing
    first = await post_alarm(client, auth, site.id, "BA", zone="3", text="Motion")
    clock.advance(5)
    second = await post_alarm(client, auth, site.id, "BG", zone="7", text="Glass")
    await deliver(client)
    assert len(smtp.messages) == 2
    assert all("Another alarm" not in m.get_body(("plain",)).get_content() for m in smtp.messages)
    # the two mails may reach the server in either order: take the first alarm's by its text
    (motion,) = [m for m in smtp.messages if "Motion" in m.get_body(("plain",)).get_content()]
    path = links(motion)["cancel"].split("127.0.0.1", 1)[1].split("/", 1)[1]
    assert (await client.post("/" + path)).status == 200
    store = client.app[STORE]
    assert (await store.get_verification(first["verifications"][0]["verification_id"])).response == "cancelled"
    assert (await store.get_verification(second["verifications"][0]["verification_id"])).response is None
