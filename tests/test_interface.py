"""Conversations with the SMS interface through the loopback carrier, time moved by the test clock."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from gateway.config import CredentialChecks
from gateway.auth.hashes import hash_secret
from gateway.model import Contact, Site, SiteGroup
from gateway.web.appkeys import EXPIRY
from tests import storage
from tests.helpers import codes, event_log, post_alarm, text

GINA = "+15550001111"  # a site-group contact with the On Test permission
SAM = "+15550002222"  # a contact of one site, no On Test permission
STRANGER = "+15559990000"
PIN, DURESS = "48213579", "90817263"  # long enough not to turn up by chance in hashes or trace ids
SAM_PIN = "13571357"


@pytest.fixture
async def sites(store, clock):
    made = []
    for site_id, name in (("site_a", "Main Office"), ("site_b", "Main Warehouse"), ("site_c", "Depot")):
        made.append(await store.add_site(Site(id=site_id, dealer_id="12345", name=name,
                                              time_zone="America/New_York", created_at=clock.now())))
    return made


@pytest.fixture
async def gina(store, sites, clock):
    await store.add_site_group(SiteGroup(id="grp_1", dealer_id="12345", name="Acme", created_at=clock.now()))
    for site in sites:
        await store.add_site_to_group("grp_1", site.id)
    contact = await store.add_contact(Contact(id=0, site_id=None, group_id="grp_1", first_name="Gina",
                                              last_name="Group", phone=GINA, time_zone="America/Chicago",
                                              on_test_permission=True, created_at=clock.now()))
    await store.set_pin(contact.id, hash_secret(PIN), clock.now() + timedelta(days=365))
    await store.set_duress_pin(contact.id, hash_secret(DURESS))
    return contact


@pytest.fixture
async def sam(store, sites, clock):
    contact = await store.add_contact(Contact(id=0, site_id="site_c", first_name="Sam", last_name="Site", phone=SAM,
                                              auto_notify=True, created_at=clock.now()))
    await store.set_pin(contact.id, hash_secret(SAM_PIN), clock.now() + timedelta(days=365))
    return contact


async def say(client, phone, body) -> list[str]:
    return (await text(client, phone, body))["replies"]


async def one(client, phone, body) -> str:
    [reply] = await say(client, phone, body)
    return reply


async def test_help_needs_no_pin_and_lists_what_the_contact_may_use(client, gina, sam):
    assert await one(client, GINA, "help") == (
        "Commands: EVENTS site [n], LOGOUT, SITES, STATUS [site], TEST site minutes, UNTEST site. "
        "Add your PIN at the end. HELP cmd for more.")
    assert "TEST" not in (await one(client, SAM, "Help")).replace("STATUS", "")
    assert await one(client, GINA, "HELP TEST") == (
        "TEST site minutes: put a site on test. Site = number from SITES, or name.")
    assert await one(client, STRANGER, "HELP") == await one(client, SAM, "HELP")


async def test_command_waits_for_the_pin(client, auth, gina):
    assert await one(client, GINA, "SITES") == "Send your PIN to run SITES."
    assert await one(client, GINA, PIN) == "1 Depot\n2 Main Office\n3 Main Warehouse"
    rows = await event_log(client, auth)
    assert codes(rows)[-2:] == ["SMSLOGIN", "SMSCMDSITES"]
    assert rows[-1]["contact_id"] == gina.id


async def test_pending_command_is_forgotten(client, gina, clock):
    await say(client, GINA, "SITES")
    clock.advance(121)
    assert (await one(client, GINA, PIN)).startswith("PIN accepted until 09:47 CST")  # 15:32 UTC + 15 min, in Chicago


async def test_pin_as_last_word_and_session(client, gina, clock):
    assert (await one(client, GINA, f"STATUS 2 {PIN}")).startswith("Main Office: not on test.")
    assert (await one(client, GINA, "status depot")).startswith("Depot: not on test.")
    clock.advance(minutes=14)
    assert (await one(client, GINA, "SITES")).startswith("1 Depot")  # the session is not extended by use
    clock.advance(minutes=1)
    assert await one(client, GINA, "SITES") == "Send your PIN to run SITES."


async def test_logout_ends_the_session(client, auth, gina):
    await say(client, GINA, PIN)
    assert await one(client, GINA, "logout") == "Logged out."
    assert await one(client, GINA, "SITES") == "Send your PIN to run SITES."
    assert codes(await event_log(client, auth))[-1] == "SMSLOGOUT"


@pytest.mark.parametrize("name, answer", [
    ("1", "Depot"), ("site_b", "Main Warehouse"), ("main w", "Main Warehouse"), ("DEP", "Depot"),
])
async def test_site_by_number_id_or_prefix(client, gina, name, answer):
    await say(client, GINA, PIN)
    assert (await one(client, GINA, f"STATUS {name}")).startswith(f"{answer}:")


async def test_ambiguous_and_unknown_sites(client, gina):
    await say(client, GINA, PIN)
    assert await one(client, GINA, "STATUS main") == "Which site? 2 Main Office; 3 Main Warehouse"
    assert await one(client, GINA, "STATUS nowhere") == "No site 'nowhere'. Text SITES for the list."
    assert await one(client, GINA, "STATUS") == "Which site? Text SITES for the list."


async def test_one_site_contact_may_leave_the_site_out(client, sam):
    assert (await one(client, SAM, f"STATUS {SAM_PIN}")).startswith("Depot: not on test.")
    assert await one(client, SAM, "SITES") == "1 Depot"
    assert await one(client, SAM, "STATUS Main") == "No site 'Main'. Text SITES for the list."


async def test_test_puts_site_on_test_and_time_ends_it(client, auth, gina, sam, clock, store):
    await say(client, GINA, PIN)
    assert await one(client, GINA, "TEST depot 60") == "Depot is ON TEST until 10:30 CST."
    assert (await one(client, GINA, "STATUS depot")).startswith("Depot: ON TEST until 10:30 CST.")
    data = await post_alarm(client, auth, "site_c", "BA")  # an alarm on test: logged, nobody texted
    assert data["verifications"] == [] and data["logged"] == ["BA", "SMSONTEST"]
    clock.advance(minutes=59)
    await client.app[EXPIRY].run_once()
    assert (await store.get_site("site_c")).on_test_until is not None
    clock.advance(minutes=1)
    await client.app[EXPIRY].run_once()
    assert (await store.get_site("site_c")).on_test_until is None
    rows = await event_log(client, auth, "site_c")
    assert codes(rows) == ["SMSCMDTEST", "ONTEST", "SMSCMDSTAT", "BA", "SMSONTEST", "OFFTEST"]
    assert codes(rows)[-1] == "OFFTEST" and rows[-1]["comment"] == "Depot: test time ended"
    ontest = next(r for r in rows if r["code"] == "ONTEST")
    assert ontest["contact_id"] == gina.id and ontest["details"]["minutes"] == 60


async def test_untest_and_bounds(client, auth, gina):
    await say(client, GINA, PIN)
    assert await one(client, GINA, "TEST 1 481") == "Minutes must be 1 to 480."
    assert await one(client, GINA, "TEST depot") == "Send TEST site minutes, e.g. TEST 1 60 (at most 480)."
    assert await one(client, GINA, "TEST 60") == "Which site? Text SITES for the list."
    assert await one(client, GINA, "UNTEST 1") == "Depot is not on test."
    await say(client, GINA, "TEST 1 30")
    assert await one(client, GINA, "UNTEST depot") == "Depot is off test."
    assert codes(await event_log(client, auth, "site_c"))[-2:] == ["SMSCMDUNTEST", "OFFTEST"]


async def test_test_needs_the_permission(client, auth, sam, store):
    assert await one(client, SAM, f"TEST 30 {SAM_PIN}") == "You do not have permission to put sites on test."
    assert (await store.get_site("site_c")).on_test_until is None


async def test_events_in_the_contacts_region(client, auth, gina, sam):
    await post_alarm(client, auth, "site_c", "BA", text="Motion, hallway")  # 15:30 UTC
    await say(client, GINA, PIN)
    assert await one(client, GINA, "EVENTS depot 2") == (
        "Depot:\n09:30 CST SMSSENT\n09:30 CST BA Motion, hallway")  # the text sent to Sam is Sam's
    assert (await one(client, GINA, "EVENTS 1")).count("\n") == 3  # the default 5, of the 3 there are


async def test_unknown_command_gets_one_standard_answer(client, auth, gina):
    await say(client, GINA, PIN)
    assert await one(client, GINA, "DANCE") == "Unknown command. Text HELP for the list."
    assert codes(await event_log(client, auth))[-1] == "SMSCMDUNK"


async def test_wrong_pin_looks_like_an_unknown_number(client, auth, gina, monkeypatch):
    import gateway.services.inbound

    checks = []
    real = gateway.services.inbound.verify_secret_async

    async def counting(hash_, secret):
        checks.append(hash_ is not None)
        return await real(hash_, secret)

    monkeypatch.setattr(gateway.services.inbound, "verify_secret_async", counting)
    for phone, pin in ((GINA, "0000"), (STRANGER, "0000"), (GINA, PIN)):
        checks.clear()
        await say(client, phone, f"SITES {pin}")
        assert len(checks) == 2  # the PIN and the duress PIN (or stand-ins): the same work every time
    await say(client, GINA, "LOGOUT")
    assert await say(client, GINA, "SITES 1111") == await say(client, STRANGER, "SITES 1111") == ["PIN not accepted."]
    assert await say(client, GINA, "SITES") == await say(client, STRANGER, "SITES")


async def test_a_flood_of_strangers_pins_is_refused_unchecked_while_a_contact_logs_in(client, auth, gina,
                                                                                      monkeypatch):
    import gateway.services.inbound

    checks = []
    real = gateway.services.inbound.verify_secret_async

    async def counting(hash_, secret):
        checks.append(hash_ is not None)
        return await real(hash_, secret)

    monkeypatch.setattr(gateway.services.inbound, "verify_secret_async", counting)
    for n in range(CredentialChecks().burst // 2):  # strangers' share, spent (the test clock stands still)
        assert await say(client, f"+1555999{n:04d}", "SITES 0000") == ["PIN not accepted."]
    checks.clear()
    for n in range(10):
        assert await say(client, f"+1555888{n:04d}", "SITES 0000") == ["PIN not accepted."]
    assert checks == []  # the same answer, at once: nothing was checked
    assert await one(client, GINA, f"SITES {PIN}") == "1 Depot\n2 Main Office\n3 Main Warehouse"
    assert checks == [True, True]
    comments = [r["comment"] for r in await event_log(client, auth) if r["code"] == "SMSBADPIN"]
    assert comments.count("PIN not checked (too many at once)") == 10 and comments.count("Wrong PIN (1)") == 20


async def test_a_contacts_own_pin_flood_is_refused_unchecked_and_not_counted(client, auth, gina, clock):
    for _ in range(CredentialChecks().per_caller_burst // 2):
        assert (await one(client, GINA, f"SITES {PIN}")).startswith("1 Depot")
    assert await one(client, GINA, f"SITES {PIN}") == "PIN not accepted."  # its bucket is spent: not checked
    clock.advance(seconds=12)  # two checks at 10 a minute
    assert await one(client, GINA, "SITES 0000") == "PIN not accepted."
    comments = [r["comment"] for r in await event_log(client, auth) if r["code"] == "SMSBADPIN"]
    assert comments == ["PIN not checked (too many at once)", "Wrong PIN (1)"]  # the unchecked one is no failure


async def test_lockout_after_failures(client, auth, gina, clock, monkeypatch):
    import gateway.services.inbound

    for _ in range(4):
        assert await one(client, GINA, "SITES 0000") == "PIN not accepted."
    assert await one(client, GINA, "SITES 0000") == "Too many wrong PINs. Try again later."
    rows = await event_log(client, auth)
    assert codes(rows).count("SMSBADPIN") == 5 and codes(rows).count("SMSLOCKOUT") == 1

    async def no_checks(*args):
        raise AssertionError("a PIN was checked during the lockout")

    monkeypatch.setattr(gateway.services.inbound, "verify_secret_async", no_checks)
    assert await one(client, GINA, f"SITES {PIN}") == "Too many wrong PINs. Try again later."
    assert await one(client, GINA, "HELP") == "Too many wrong PINs. Try again later."
    assert codes(await event_log(client, auth)).count("SMSLOCKOUT") == 1  # logged once
    monkeypatch.undo()
    clock.advance(minutes=30)
    assert (await one(client, GINA, f"SITES {PIN}")).startswith("1 Depot")


async def test_failures_outside_the_window_do_not_add_up(client, gina, clock):
    for _ in range(4):
        await say(client, GINA, "SITES 0000")
    clock.advance(minutes=16)
    assert await one(client, GINA, "SITES 0000") == "PIN not accepted."


async def test_expired_pin_is_refused_and_logged(client, auth, gina, clock):
    clock.advance(days=366)
    assert await one(client, GINA, f"SITES {PIN}") == "Your PIN has expired. Call the central station for a new one."
    assert codes(await event_log(client, auth))[-1] == "SMSPINEXP"


async def test_duress_pin_looks_like_the_real_one(client, auth, gina, store, clock):
    real = [await one(client, GINA, f"SITES {PIN}"), await one(client, GINA, "TEST 1 10"),
            await one(client, GINA, "UNTEST 1"), await one(client, GINA, "LOGOUT")]
    duress = [await one(client, GINA, f"SITES {DURESS}"), await one(client, GINA, "TEST 1 10"),
              await one(client, GINA, "UNTEST 1"), await one(client, GINA, "LOGOUT")]
    assert duress == real
    rows = await event_log(client, auth)
    [alert] = [r for r in rows if r["code"] == "DURESS"]
    assert alert["details"] == {"priority": "high"} and alert["contact_id"] == gina.id
    after = rows[rows.index(alert):]
    assert all(r["details"] and r["details"].get("duress") for r in after if r["code"].startswith("SMSCMD"))


async def test_no_pin_anywhere(client, auth, gina, sam, config, caplog):
    caplog.set_level(logging.DEBUG)
    await post_alarm(client, auth, "site_c", "BA")
    conversation = [(GINA, "SITES"), (GINA, PIN), (GINA, f"STATUS 1 {PIN}"), (GINA, f"TEST 1 5 {DURESS}"),
                    (GINA, "SITES 77007700"), (SAM, f"YES {SAM_PIN}"), (STRANGER, "STATUS 24682468"),
                    (GINA, "55115511")]
    replies = []
    for phone, body in conversation:
        replies += await say(client, phone, body)
    exposition = await (await client.get("/metrics")).text()
    metrics = "\n".join(line.rpartition(" ")[0] for line in exposition.splitlines() if not line.startswith("#"))
    dump = storage.dump_text(config.database.url)
    for secret in (PIN, DURESS, "77007700", SAM_PIN, "24682468", "55115511"):
        assert secret not in dump, secret
        assert secret not in caplog.text, secret
        assert secret not in metrics, secret
        assert not any(secret in reply for reply in replies), secret
    assert "****" in dump


async def test_reply_budget_silences_a_loop(client, auth, gina, clock):
    answers = [await say(client, GINA, "HELP") for _ in range(12)]
    assert all(answers[:10]) and answers[10:] == [[], []]
    assert codes(await event_log(client, auth)).count("SMSMUTED") == 1
    clock.advance(minutes=61)
    assert await say(client, GINA, "HELP")


async def test_stranger_learns_nothing(client, auth, gina):
    assert await one(client, STRANGER, "SITES") == "Send your PIN to run SITES."
    assert await one(client, STRANGER, "1234") == "PIN not accepted."
    assert await say(client, STRANGER, "hello") == []
    row = (await event_log(client, auth))[-1]
    assert row["code"] == "SMSUNKNOWN" and row["site_id"] is None and row["contact_id"] is None


async def test_verification_reply_still_wins_over_commands(client, auth, sam):
    await post_alarm(client, auth, "site_c", "BA")
    assert "CONFIRMED" in await one(client, SAM, "yes")
    assert await one(client, SAM, f"SITES {SAM_PIN}") == "1 Depot"  # with nothing open, commands work again


async def test_help_fits_one_sms_segment(client, gina, sam):
    from gateway.core.segments import count

    for phone in (GINA, SAM, STRANGER):
        assert count(await one(client, phone, "HELP")).segments == 1
