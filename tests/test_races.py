"""Texts that arrive together: the first decisive answer wins, parallel PIN guesses still lock out."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gateway.auth.hashes import hash_secret
from gateway.model import Contact
from gateway.web.appkeys import EXPIRY
from tests.conftest import OTHER_PHONE, PHONE
from tests.helpers import codes, event_log, post_alarm, text
from tests.webhook_receiver import deliver_webhooks, subscribed


@pytest.fixture
def config(config, receiver, tmp_path):
    """A webhook subscriber, to count the notifications as a subscriber sees them."""
    return subscribed(config, receiver, tmp_path)


async def test_two_contacts_answer_at_once_one_wins(client, auth, site, contact, store, clock, receiver):
    await store.add_contact(Contact(id=0, site_id=site.id, first_name="Jane", last_name="Roe", phone=OTHER_PHONE,
                                    auto_notify=True, created_at=clock.now()))
    data = await post_alarm(client, auth, site.id, "BA")
    a, b = await asyncio.gather(text(client, PHONE, "YES"), text(client, OTHER_PHONE, "NO"))
    verification = await store.get_verification(data["verifications"][0]["verification_id"])
    winner, loser = (a, b) if verification.response == "confirmed" else (b, a)
    assert "CONFIRMED" in winner["replies"][0] or "CANCELLED" in winner["replies"][0]
    assert loser["replies"][0].startswith("The alarm at Main Office was already")
    await deliver_webhooks(client)
    assert [e["response"] for e in receiver.events("verification.responded")] == [verification.response]


async def test_answer_racing_the_timeout_is_not_thanked(client, auth, site, contact, store, clock):
    data = await post_alarm(client, auth, site.id, "BA")
    clock.advance(299)
    read = store.inbound_view

    async def read_then_time_passes(*args, **kwargs):  # the expiry loop runs between read and commit
        view = await read(*args, **kwargs)
        if view.open:
            clock.advance(2)
            await client.app[EXPIRY].run_once()
        return view

    store.inbound_view = read_then_time_passes
    answer = await text(client, PHONE, "YES")
    assert answer["replies"] == []  # decided again: an ordinary text after the timeout
    assert (await store.get_verification(data["verifications"][0]["verification_id"])).status == "expired"
    assert codes(await event_log(client, auth, site.id))[-2:] == ["SMSTIMEOUT", "SMSIN"]


async def test_parallel_wrong_pins_still_lock_out(client, auth, site, contact, store, clock):
    await store.set_pin(contact.id, hash_secret("48213579"), clock.now() + timedelta(days=365))
    guesses = [f"STATUS {10000000 + i}" for i in range(8)]
    await asyncio.gather(*(text(client, PHONE, g) for g in guesses))
    assert codes(await event_log(client, auth)).count("SMSLOCKOUT") == 1
    assert (await text(client, PHONE, "STATUS 48213579"))["replies"] == ["Too many wrong PINs. Try again later."]
    assert codes(await event_log(client, auth)).count("SMSBADPIN") >= 5  # every wrong PIN counted, none lost
