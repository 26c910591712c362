"""Sites, contacts, alarm events, site groups, PINs and sites on test: the same on both engines."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from gateway.model import AlarmEvent, Contact, Decision, LogEntry, Site, SiteGroup, SiteTest
from gateway.stores.connector import Conflict
from tests.conftest import OTHER_PHONE, PHONE


async def test_sites_are_listed_by_creation_and_filtered_by_dealer(store, clock):
    a = await store.add_site(Site(id="s_a", dealer_id="1", name="A", created_at=clock.now()))
    clock.advance(1)
    b = await store.add_site(Site(id="s_b", dealer_id="2", name="B", time_zone="Europe/Paris", created_at=clock.now()))
    assert await store.list_sites() == [a, b]
    assert await store.list_sites("2") == [b]
    assert await store.get_site("s_b") == b
    assert await store.get_site("nope") is None
    with pytest.raises(Conflict):
        await store.add_site(Site(id="s_a", dealer_id="1", name="again", created_at=clock.now()))


async def test_contacts_round_trip_every_field(store, site, clock):
    given = Contact(id=0, site_id=site.id, first_name="Ann", last_name="Lee", phone=PHONE, email="ann@example.com",
                    external_contact_id="x-1", auto_notify=True, email_notify=True, title="Owner", slot_number=2,
                    time_zone="America/Chicago", on_test_permission=True, created_at=clock.now())
    stored = await store.add_contact(given)
    assert stored.id > 0 and stored == msgspec.structs.replace(given, id=stored.id)
    other = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Bo", last_name="Ng", phone=OTHER_PHONE,
                                            created_at=clock.now()))
    assert other.id > stored.id
    assert await store.get_contact(stored.id) == stored
    assert await store.get_contact(999999) is None
    assert await store.list_contacts(site.id) == [stored, other]
    assert await store.contacts_by_phone(PHONE) == [stored]
    assert await store.contacts_by_phone("+15559999999") == []


async def test_alarm_events_are_recorded_once(store, site, clock):
    alarm = AlarmEvent(id="evt_1", site_id=site.id, event_code="BA", zone="3", text="Hall", received_at=clock.now())
    assert not (await store.commit(Decision(alarm=alarm))).duplicate
    assert (await store.commit(Decision(alarm=alarm, log=[LogEntry(code="BA", at=clock.now())]))).duplicate
    assert await store.get_alarm_event("evt_1") == alarm
    assert await store.get_alarm_event("evt_2") is None
    assert await store.event_log(site_id=None, after=0, limit=10) == []  # the duplicate wrote nothing


async def test_site_groups_and_their_sites(store, site, clock):
    group = await store.add_site_group(SiteGroup(id="grp_1", dealer_id="12345", name="Retail", created_at=clock.now()))
    other = await store.add_site(Site(id="site_b", dealer_id="12345", name="Annex", created_at=clock.now()))
    await store.add_site_to_group(group.id, site.id)
    await store.add_site_to_group(group.id, other.id)
    await store.add_site_to_group(group.id, other.id)  # twice: no error, no second row
    assert await store.get_site_group(group.id) == group
    assert await store.get_site_group("nope") is None
    assert await store.list_site_groups() == [group]
    assert [s.id for s in await store.group_sites(group.id)] == ["site_b", "site_main"]  # by name
    member = await store.add_contact(Contact(id=0, site_id=None, group_id=group.id, first_name="G", last_name="L",
                                             phone=PHONE, created_at=clock.now()))
    assert member.site_id is None and member.group_id == group.id


async def test_pins_and_the_on_test_permission(store, contact, clock):
    expires = clock.now() + timedelta(days=365)
    await store.set_pin(contact.id, "$argon2id$pin", expires)
    await store.set_duress_pin(contact.id, "$argon2id$duress")
    await store.set_on_test_permission(contact.id, True)
    got = await store.get_contact(contact.id)
    assert (got.pin_hash, got.pin_expires_at, got.duress_pin_hash, got.on_test_permission) == (
        "$argon2id$pin", expires, "$argon2id$duress", True)
    await store.set_pin(contact.id, None, None)
    await store.set_duress_pin(contact.id, None)
    await store.set_on_test_permission(contact.id, False)
    got = await store.get_contact(contact.id)
    assert (got.pin_hash, got.pin_expires_at, got.duress_pin_hash, got.on_test_permission) == (None, None, None, False)


async def test_sites_come_off_test_when_their_time_runs_out(store, site, clock):
    until = clock.now() + timedelta(minutes=30)
    await store.commit(Decision(site_tests=[SiteTest(site_id=site.id, until=until)]))
    assert (await store.get_site(site.id)).on_test_until == until

    def log_for(site_id: str, name: str) -> list[LogEntry]:
        return [LogEntry(code="SMSTESTEND", at=clock.now(), site_id=site_id, comment=f"{name}: test time ended")]

    assert await store.end_site_tests(clock.now(), log_for) == []
    clock.advance(minutes=30)
    assert await store.end_site_tests(clock.now(), log_for) == [site.id]
    assert await store.end_site_tests(clock.now(), log_for) == []
    assert (await store.get_site(site.id)).on_test_until is None
    [row] = await store.event_log(site_id=site.id, after=0, limit=10)
    assert (row.code, row.comment) == ("SMSTESTEND", "Main Office: test time ended")


async def test_a_slot_number_takes_any_64_bit_integer(store, site, clock):
    big = await store.add_contact(Contact(id=0, site_id=site.id, first_name="A", last_name="B", slot_number=2**40,
                                          created_at=clock.now()))
    assert (await store.get_contact(big.id)).slot_number == 2**40
