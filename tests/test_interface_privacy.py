"""What the SMS interface lets a phone see of the event log: never a duress login, never another person's text."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from gateway.config import Interface
from gateway.auth.hashes import hash_secret
from gateway.model import Contact, Site
from tests.helpers import codes, event_log, post_alarm, text

SAM, SID, ANN = "+15550002222", "+15550003333", "+15550004444"
PIN, DURESS = "13571357", "24682468"


@pytest.fixture
def config(config):
    return msgspec.structs.replace(config, interface=Interface(hidden_codes=["HA"]))  # HA: a keypad hold-up


async def add_contact(store, clock, site_id: str, first_name: str, phone: str, auto_notify: bool = False) -> Contact:
    contact = await store.add_contact(Contact(id=0, site_id=site_id, first_name=first_name, last_name="Site",
                                              phone=phone, auto_notify=auto_notify, created_at=clock.now()))
    await store.set_pin(contact.id, hash_secret(PIN), clock.now() + timedelta(days=365))
    await store.set_duress_pin(contact.id, hash_secret(DURESS))
    return contact


@pytest.fixture
async def twins(store, clock):
    """Two sites alike in every way a phone can see, each with one contact: Sam's and Sid's."""
    for site_id in ("site_s", "site_t"):
        await store.add_site(Site(id=site_id, dealer_id="12345", name="Depot", created_at=clock.now()))
    return (await add_contact(store, clock, "site_s", "Sam", SAM),
            await add_contact(store, clock, "site_t", "Sid", SID))


async def conversation(client, phone: str, pin: str) -> list[list[str]]:
    bodies = ["HELP", "STATUS 0000", f"STATUS {pin}", "STATUS", "EVENTS 20", "HELP", "HELP STATUS", "LOGOUT",
              "EVENTS 20", pin, "STATUS", "EVENTS 20", "LOGOUT"]
    return [(await text(client, phone, body))["replies"] for body in bodies]


async def test_a_duress_login_looks_like_a_normal_one_from_the_phone(client, auth, twins):
    for site_id in ("site_s", "site_t"):
        await post_alarm(client, auth, site_id, "BA", text="Motion, hallway")
    under_duress = await conversation(client, SAM, DURESS)
    normal = await conversation(client, SID, PIN)
    assert under_duress == normal
    assert "DURESS" in codes(await event_log(client, auth, "site_s"))  # logged for the central station
    shown = "\n".join(line for replies in under_duress for line in replies)
    for hidden in ("DURESS", "SMSBADPIN", "SMSLOCKOUT", "SMSPINEXP"):
        assert hidden not in shown
    assert "SMSLOGIN" in shown and "BA" in shown


async def test_status_shows_interface_status_events_rows(client, auth, twins):
    for n in range(5):
        await post_alarm(client, auth, "site_s", f"X{n}")  # no auto process: X0, SMSNOPROC, X1, ...
    [reply] = (await text(client, SAM, f"STATUS {PIN}"))["replies"]
    assert reply == "Depot: not on test. Last: 15:30 UTC SMSNOPROC; 15:30 UTC X4; 15:30 UTC SMSNOPROC"


async def test_configured_codes_are_hidden_too_without_shortening_the_list(client, auth, twins):
    for n in range(10):
        await post_alarm(client, auth, "site_s", f"X{n}")
    for _ in range(5):
        await post_alarm(client, auth, "site_s", "HA", text="Hold-up, keypad")
    [status] = (await text(client, SAM, f"STATUS {PIN}"))["replies"]
    [events] = (await text(client, SAM, "EVENTS 20"))["replies"]
    assert "HA" in codes(await event_log(client, auth, "site_s"))
    assert "HA" not in status + events and "Hold-up" not in events
    assert status.endswith("Last: 15:30 UTC SMSNOREC; 15:30 UTC SMSNOREC; 15:30 UTC SMSNOREC")
    assert events.count("\n") == 20  # the 20 newest rows a phone may see, however many are hidden among them


async def test_events_shows_the_alarm_never_a_persons_text(client, auth, store, clock, twins):
    await store.add_contact(Contact(id=0, site_id="site_s", first_name="Ann", last_name="Other", phone=ANN,
                                    auto_notify=True, created_at=clock.now()))
    await post_alarm(client, auth, "site_s", "BA", zone="3", text="Motion, hallway")
    await text(client, ANN, "maybe, the cleaner? ask Bob")
    await text(client, SAM, PIN)
    await text(client, ANN, "yes")
    [events] = (await text(client, SAM, "EVENTS 20"))["replies"]
    logged = await event_log(client, auth, "site_s")
    assert {"SMSSENT", "SMSReply", "SMSYES"} <= set(codes(logged))
    assert events == ("Depot:\n15:30 UTC SMSYES\n15:30 UTC SMSLOGIN\n15:30 UTC SMSReply\n"
                      "15:30 UTC SMSSENT\n15:30 UTC BA zone 3 Motion, hallway")


@pytest.mark.parametrize("answer", ["NO", "YES", "on my way"])
async def test_the_duress_pin_in_an_answer_to_an_alarm_alerts_the_station_and_looks_the_same(
        client, auth, store, clock, answer):
    for site_id in ("site_s", "site_t"):
        await store.add_site(Site(id=site_id, dealer_id="12345", name="Depot", created_at=clock.now()))
    sam = await add_contact(store, clock, "site_s", "Sam", SAM, auto_notify=True)
    await add_contact(store, clock, "site_t", "Sam", SID, auto_notify=True)
    for site_id in ("site_s", "site_t"):
        await post_alarm(client, auth, site_id, "BA", text="Motion, hallway")
    forced = (await text(client, SAM, f"{answer} {DURESS}"))["replies"]
    assert forced == (await text(client, SID, f"{answer} {PIN}"))["replies"]
    [alert] = [row for row in await event_log(client, auth, "site_s") if row["code"] == "DURESS"]
    assert alert["contact_id"] == sam.id and alert["details"] == {"priority": "high"}
    assert alert["verification_id"] and alert["event_id"]
    assert "DURESS" not in codes(await event_log(client, auth, "site_t"))
