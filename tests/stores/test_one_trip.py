"""PostgreSQL's one-round-trip paths (migrations/0016_one_trip.sql) against the generic bodies they stand in for:
the same decisions committed both ways, on two schemas, leave the same rows, refuse the same stale decisions and
read back the same inbound views. (The contract suite runs the store's methods on both engines: SQLite takes the
generic bodies, PostgreSQL these.)"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from gateway.errors import StaleDecision
from gateway.model import (
    AlarmEvent, Contact, Decision, Dispatch, InboundMessage, InterfaceState, LogEntry, Notification, ReplyRef, Site,
    SiteTest, VerificationResponse,
)
from gateway.stores import open_store
from tests.conftest import OTHER_PHONE, PHONE
from tests.postgres import admin, database_url
from tests.stores.conftest import text_for, verification

pytestmark = pytest.mark.postgres
PAGING = {"tx", "last_tx"}  # transaction ids: never the same in two databases


@pytest.fixture
async def stores(pg_url, pg_database, clock):
    """Two stores on empty schemas: ``fast`` as shipped, ``generic`` told its engine offers no one-trip path."""
    schema = "t_" + secrets.token_hex(5)
    admin(f"CREATE SCHEMA {schema}", database_url(pg_database))
    fast, generic = open_store(pg_url, clock=clock), open_store(database_url(pg_database, schema), clock=clock)
    generic.db.offers = lambda query: False
    for store in (fast, generic):
        await store.open()
    try:
        yield fast, generic
    finally:
        for store in (fast, generic):
            await store.close()
        admin(f"DROP SCHEMA {schema} CASCADE", database_url(pg_database))


async def rows(store) -> dict[str, list[tuple]]:
    everything = {}
    for table in await store.db.tables():
        columns = [c for c in await store.db.columns(table) if c not in PAGING]
        everything[table] = [row async for batch in store.db.dump(table, columns, 1000) for row in batch]
    return everything


def text(clock, body: str, sid: str, phone: str = PHONE) -> InboundMessage:
    return InboundMessage(carrier="loopback", carrier_message_id=sid, from_phone=phone, to_phone="+15550000000",
                          body=body, received_at=clock.now())


async def test_both_ways_write_the_same_rows_and_read_the_same_views(stores, clock):
    for store in stores:
        site = await store.add_site(Site(id="site_main", dealer_id="12345", name="Main Office",
                                         time_zone="America/New_York", created_at=clock.now()))
        contact = await store.add_contact(Contact(id=0, site_id=site.id, first_name="John", last_name="Doe",
                                                  phone=PHONE, auto_notify=True, created_at=clock.now()))
    alarm = AlarmEvent(id="evt_1", site_id=site.id, event_code="BA", zone="3", text="Door", received_at=clock.now())
    v = verification(site, [contact], clock, vid="ver_1", event_id="evt_1", message="Door\x00")
    ref = ReplyRef(phone=PHONE, ref=1, alarm_key="evt_1", verification_id=v.id, site_id=site.id,
                   created_at=clock.now(), held_until=v.timeout_at + timedelta(hours=1))
    dispatch = Dispatch(id="dsp_1", site_id=site.id, template="fire", code="SMSDISP", created_at=clock.now(),
                        reply_until=clock.now() + timedelta(minutes=10), recipients=((contact.id, PHONE),))
    opened = Decision(alarm=alarm, opened=[v], outbound=[text_for(v, contact), text_for(v, contact, body="2nd")],
                      reply_refs=[ref], dispatches=[dispatch],
                      log=[LogEntry(code="ALARM", at=clock.now(), site_id=site.id, event_id=alarm.id,
                                    details={"zone": "3", "at": "x\\u0000"})],
                      notifications=[Notification(event_type="alarm.received", data={"id": alarm.id},
                                                  at=clock.now())])
    clock.advance(0.0004567)  # a time below the millisecond: both ways store it to the millisecond
    answer = VerificationResponse(verification_id=v.id, contact_id=contact.id, response="confirmed", at=clock.now())
    state = InterfaceState(phone=PHONE, session_contact_id=contact.id, replies=1, replies_since=clock.now())
    yes = Decision(inbound=text(clock, "YES", "SM1"), responses=[answer], replies=["Thanks", "Noted"],
                   interface_state=state, site_tests=[SiteTest(site_id=site.id, until=clock.now())],
                   log=[LogEntry(code="SMSYES", at=clock.now(), site_id=site.id, verification_id=v.id, details=None)])
    late = Decision(inbound=text(clock, "NO", "SM2", OTHER_PHONE), replies=["Cancelled"], responses=[
        VerificationResponse(verification_id=v.id, contact_id=contact.id, response="cancelled", at=clock.now())])
    taken = Decision(reply_refs=[ReplyRef(phone=PHONE, ref=1, alarm_key="evt_2", verification_id=v.id,
                                          site_id=site.id, created_at=clock.now(), held_until=clock.now())],
                     log=[LogEntry(code="X", at=clock.now())])
    results = []
    for store in stores:
        first = await store.inbound_view(PHONE, clock.now())
        opened_result = await store.commit(opened)
        assert (await store.commit(opened)).duplicate  # the alarm event seen before
        with_open = await store.inbound_view(PHONE, clock.now())
        assert with_open.open and with_open.refs and with_open.dispatches
        yes_result = await store.commit(yes)
        assert (await store.commit(yes)).duplicate
        with pytest.raises(StaleDecision, match="no longer open"):
            await store.commit(late)
        with pytest.raises(StaleDecision, match="reply reference 1"):
            await store.commit(taken)
        unknown = await store.inbound_view(OTHER_PHONE, clock.now())
        results.append((first, opened_result, with_open, yes_result, await store.inbound_view(PHONE, clock.now()),
                        unknown, await rows(store)))
    fast, generic = results
    assert fast[:6] == generic[:6]
    assert fast[6] == generic[6]
    assert fast[3].inbound_id is not None
