"""The pipeline's read (``inbound_view``) and write (``commit``) on both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.errors import StaleDecision
from gateway.model import (
    AlarmEvent, Decision, Dispatch, InboundMessage, InterfaceState, LogEntry, Notification, VerificationResponse,
)
from tests.conftest import OTHER_PHONE, PHONE
from tests.stores.conftest import open_verification, text_for, verification


def inbound(clock, body: str = "YES", sid: str = "SM1", phone: str = PHONE) -> InboundMessage:
    return InboundMessage(carrier="loopback", carrier_message_id=sid, from_phone=phone, to_phone="+15550000000",
                          body=body, received_at=clock.now())


async def test_inbound_view_of_an_unknown_number_holds_only_its_state(store, clock):
    state = InterfaceState(phone="+15559990000", failures=2, failures_since=clock.now())
    await store.commit(Decision(interface_state=state))
    view = await store.inbound_view("+15559990000", clock.now())
    assert (view.contacts, view.open, view.site, view.alarm, view.dispatches) == ([], [], None, None, [])
    assert view.state == state


async def test_inbound_view_gathers_what_deciding_needs(store, site, contact, clock):
    alarm = AlarmEvent(id="evt_1", site_id=site.id, event_code="BA", received_at=clock.now())
    first = verification(site, [contact], clock, vid="ver_1", event_id="evt_1")
    await store.commit(Decision(alarm=alarm, opened=[first]))
    clock.advance(1)
    second = verification(site, [contact], clock, vid="ver_2", event_id="evt_1", message="Door")
    dispatch = Dispatch(id="dsp_1", site_id=site.id, template="fire", code="SMSDISP", created_at=clock.now(),
                        reply_until=clock.now() + timedelta(minutes=10), recipients=((contact.id, PHONE),))
    await store.commit(Decision(opened=[second], dispatches=[dispatch]))
    view = await store.inbound_view(PHONE, clock.now())
    assert view.contacts == [contact]
    assert [(v.id, who) for v, who in view.open] == [("ver_2", contact.id), ("ver_1", contact.id)]  # newest first
    assert view.open[0][0].message == "Door" and view.site == site and view.alarm == alarm
    assert [(d.id, d.recipients) for d in view.dispatches] == [("dsp_1", ((contact.id, ""),))]
    clock.advance(minutes=10)  # past the verifications' timeouts and the dispatch's reply window
    later = await store.inbound_view(PHONE, clock.now())
    assert (later.open, later.site, later.dispatches) == ([], None, [])


async def test_commit_records_the_text_once_and_its_replies_as_sent(store, site, contact, clock):
    decision = Decision(inbound=inbound(clock), replies=["Thanks", "é" * 80],
                        log=[LogEntry(code="SMSIN", at=clock.now(), site_id=site.id, details={"n": [1, 2]})])
    result = await store.commit(decision)
    assert result.inbound_id is not None and not result.duplicate
    again = await store.commit(Decision(inbound=inbound(clock), replies=["Thanks"],
                                        log=[LogEntry(code="SMSIN", at=clock.now(), site_id=site.id)]))
    assert again.duplicate and again.inbound_id is None
    [row] = await store.event_log(site_id=site.id, after=0, limit=10)
    assert (row.code, row.details) == ("SMSIN", {"n": [1, 2]})
    assert await store.outbox_depth() == 0  # the replies went back inline: recorded sent, not queued
    assert await store.claim_outbound(clock.now(), clock.now(), 10) == []


async def test_commit_writes_a_whole_decision(store, site, contact, clock):
    v = verification(site, [contact], clock)
    state = InterfaceState(phone=PHONE, session_contact_id=contact.id, session_duress=True,
                           session_expires_at=clock.now() + timedelta(minutes=5))
    note = Notification(event_type="verification.responded", at=clock.now(), data={"verification_id": v.id})
    await store.commit(Decision(opened=[v], outbound=[text_for(v, contact, body="x" * 200)], interface_state=state,
                                notifications=[note]))
    assert (await store.get_verification(v.id)).recipients[0].contact_id == contact.id
    [item] = await store.claim_outbound(clock.now(), clock.now() + timedelta(seconds=60), 10)
    assert (item.segments, item.kind, item.priority) == (2, "verification", 100)  # counted as the carrier will
    assert (await store.inbound_view(PHONE, clock.now())).state == state
    assert await store.fan_out_webhook_events(clock.now(), lambda kind, at: ["hook"], 10) == 1


async def test_a_response_to_a_verification_no_longer_open_refuses_the_whole_decision(store, site, contact, clock):
    v = await open_verification(store, site, [contact], clock)
    answer = VerificationResponse(verification_id=v.id, contact_id=contact.id, response="confirmed", at=clock.now())
    await store.commit(Decision(inbound=inbound(clock, sid="SM1"), responses=[answer]))
    late = Decision(inbound=inbound(clock, "NO", sid="SM2", phone=OTHER_PHONE), replies=["Cancelled"],
                    responses=[VerificationResponse(verification_id=v.id, contact_id=contact.id, response="cancelled",
                                                    at=clock.now())],
                    log=[LogEntry(code="SMSNO", at=clock.now(), site_id=site.id)])
    with pytest.raises(StaleDecision):
        await store.commit(late)
    got = await store.get_verification(v.id)
    assert (got.status, got.response, got.responded_by) == ("responded", "confirmed", contact.id)
    assert got.recipients[0].response == "confirmed"
    assert await store.event_log(site_id=site.id, after=0, limit=10) == []
    assert not (await store.commit(Decision(inbound=inbound(clock, "NO", sid="SM2", phone=OTHER_PHONE)))).duplicate


async def test_a_nul_in_a_text_is_stored_where_postgresql_cannot_hold_it(store, site, clock):
    """PostgreSQL's text and jsonb refuse NUL: it is stored as U+FFFD there, as it came on SQLite."""
    body = "a\x00b"
    await store.commit(Decision(inbound=inbound(clock, body), log=[LogEntry(
        code="SMSReply", at=clock.now(), site_id=site.id, comment=body, details={"text": body, "raw": "\\u0000"})]))
    [row] = await store.event_log(site_id=site.id, after=0, limit=10)
    stored = body if store.engine == "sqlite" else "a\ufffdb"
    assert (row.comment, row.details) == (stored, {"text": stored, "raw": "\\u0000"})
