"""Verifications and the outbox on both engines: claims under a lease, the holder's marks, delivery
reports, expiry, response links, the loopback carrier's record."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from gateway.model import Decision, DeliveryReport, LogEntry, Notification, OutboundMessage, Verification
from gateway.stores import open_store
from tests.conftest import OTHER_PHONE
from tests.stores.conftest import open_verification

LEASE = timedelta(seconds=60)


async def claim(store, clock, limit: int = 10):
    return await store.claim_outbound(clock.now(), clock.now() + LEASE, limit)


async def notice(store, clock, n: int, priority: int = 10) -> None:
    await store.commit(Decision(outbound=[OutboundMessage(to_phone=f"+1555000{i:04d}", body=f"notice {i}", kind="notice",
                                                          priority=priority) for i in range(n)]))


async def test_claims_go_by_priority_then_age_and_lease_each_message(store, site, contact, clock):
    await notice(store, clock, 2)
    clock.advance(1)
    v = await open_verification(store, site, [contact], clock)
    first = await claim(store, clock, 2)
    assert [(m.kind, m.attempts) for m in first] == [("verification", 1), ("notice", 1)]
    assert first[0].verification_id == v.id and first[0].expires_at is None
    assert [m.body for m in await claim(store, clock)] == ["notice 1"]
    assert await claim(store, clock) == []  # all leased
    assert await store.outbox_depth() == 3
    assert await store.outbox_oldest() == {"notice": clock.now() - timedelta(seconds=1), "verification": clock.now()}
    clock.advance(61)  # the leases ran out (their sender died): due again, attempt counted
    assert sorted(m.attempts for m in await claim(store, clock)) == [2, 2, 2]


async def test_a_sent_text_marks_its_recipient_and_verification_sent(store, site, contact, clock):
    v = await open_verification(store, site, [contact], clock)
    [item] = await claim(store, clock)
    await store.outbound_sent(item, "loopback", "LB1", clock.now())
    got = await store.get_verification(v.id)
    assert (got.status, got.recipients[0].status) == ("sent", "sent")
    assert await store.outbox_depth() == 0 and await store.outbox_oldest() == {}
    clock.advance(61)
    assert await claim(store, clock) == []  # sent: never claimed again


async def test_retry_and_defer_put_a_message_back(store, clock):
    await notice(store, clock, 1)
    [item] = await claim(store, clock)
    await store.outbound_retry(item, clock.now() + timedelta(seconds=30), "20429", "rate limited", clock.now())
    assert await claim(store, clock) == []
    clock.advance(30)
    [again] = await claim(store, clock)
    assert again.attempts == 2
    await store.outbound_defer(again, clock.now() + timedelta(seconds=5), "rate limit: deferred", clock.now())
    clock.advance(5)
    [third] = await claim(store, clock)
    assert third.attempts == 2  # a deferral gives the claim's attempt back


async def test_only_the_daemon_holding_the_lease_may_mark_it(db_url, store, clock):
    await notice(store, clock, 1)
    [stale] = await claim(store, clock)
    clock.advance(61)
    other = open_store(db_url, clock=clock)
    await other.open()
    try:
        [taken] = await claim(other, clock)  # the first daemon's lease ran out: another takes over
        await store.outbound_sent(stale, "loopback", "LATE", clock.now())
        await store.outbound_retry(stale, clock.now(), None, "late", clock.now())
        await store.outbound_defer(stale, clock.now(), "late", clock.now())
        assert await other.outbox_depth() == 1  # none of the stale marks counted
        await other.outbound_sent(taken, "loopback", "LB2", clock.now())
        assert await other.outbox_depth() == 0
    finally:
        await other.close()


async def test_concurrent_claims_never_take_one_message_twice(db_url, store, clock):
    """Four daemons claiming at once from one outbox: every message claimed, none by two."""
    await notice(store, clock, 120)
    others = [open_store(db_url, clock=clock) for _ in range(3)]
    for other in others:
        await other.open()
    try:
        daemons = [store, *others]
        claimed: list[int] = []
        for _ in range(20):
            batches = await asyncio.gather(*(claim(d, clock, 5) for d in daemons))
            claimed += [m.id for batch in batches for m in batch]
            if not any(batches):
                break
        assert len(claimed) == 120 and len(set(claimed)) == 120
    finally:
        for other in others:
            await other.close()


async def test_giving_up_fails_the_verification_when_nobody_is_left(store, site, contact, clock):
    other = await store.add_contact(type(contact)(id=0, site_id=site.id, first_name="Bo", last_name="Ng",
                                                  phone=OTHER_PHONE, created_at=clock.now()))
    v = await open_verification(store, site, [contact, other], clock, event_id=None)
    first, second = await claim(store, clock)
    entry = LogEntry(code="SMSFAIL", at=clock.now(), site_id=site.id, comment="refused")
    await store.outbound_failed(first, "failed", "21211", "invalid number", clock.now(), [entry])
    assert (await store.get_verification(v.id)).status == "pending"
    assert await store.fan_out_webhook_events(clock.now(), lambda kind, at: [kind], 10) == 0
    await store.outbound_failed(second, "expired", None, "too late", clock.now(), [])
    got = await store.get_verification(v.id)
    assert got.status == "failed" and {r.status for r in got.recipients} == {"failed"}
    assert {r.error for r in got.recipients} == {"invalid number", "too late"}
    assert await store.fan_out_webhook_events(clock.now(), lambda kind, at: [kind], 10) == 1
    [delivery] = await store.claim_webhook_deliveries(clock.now(), clock.now() + LEASE, 10)
    assert (delivery.subscriber, delivery.data) == ("verification.failed", {
        "verification_id": v.id, "event_id": None, "site_id": site.id, "reason": "too late",
        "failed_at": "2026-01-15T15:30:00.000Z"})
    assert [r.code for r in await store.event_log(site_id=site.id, after=0, limit=10)] == ["SMSFAIL"]


async def test_delivery_reports_move_a_message_forward_only(store, site, contact, clock):
    v = await open_verification(store, site, [contact], clock)
    [item] = await claim(store, clock)
    await store.outbound_sent(item, "twilio", "SM1", clock.now())

    def report(status: str, code: str | None = None) -> DeliveryReport:
        return DeliveryReport(carrier="twilio", carrier_message_id="SM1", status=status, error_code=code, at=clock.now())

    def log_for(it, rep) -> list[LogEntry]:
        return [LogEntry(code="SMSFAIL", at=rep.at, verification_id=it.verification_id, comment=rep.status)]

    assert (await store.delivery_report(report("sent"), log_for)).logged == ()
    unknown = await store.delivery_report(DeliveryReport(carrier="twilio", carrier_message_id="SMX", status="sent",
                                                         at=clock.now()), log_for)
    assert not unknown.known
    settled = await store.delivery_report(report("undelivered", "30003"), log_for)
    assert settled.known and [e.comment for e in settled.logged] == ["undelivered"]
    assert (await store.delivery_report(report("delivered"), log_for)).logged == ()  # the first final report won
    assert (await store.delivery_report(report("undelivered", "30003"), log_for)).logged == ()  # a repeat
    got = await store.get_verification(v.id)
    assert (got.status, got.recipients[0].status, got.recipients[0].error) == ("failed", "failed",
                                                                                 "carrier error 30003")
    assert [r.comment for r in await store.event_log(site_id=None, after=0, limit=10)] == ["undelivered"]


async def test_a_delivered_report_settles_the_recipient(store, site, contact, clock):
    v = await open_verification(store, site, [contact], clock)
    [item] = await claim(store, clock)
    await store.outbound_sent(item, "twilio", "SM9", clock.now())
    result = await store.delivery_report(DeliveryReport(carrier="twilio", carrier_message_id="SM9", status="delivered",
                                                        at=clock.now()), lambda it, rep: [])
    assert result.known and result.logged == ()
    got = await store.get_verification(v.id)
    assert (got.status, got.recipients[0].status) == ("delivered", "delivered")


async def test_reports_that_overtook_the_send_are_applied_when_it_is_recorded(store, site, contact, clock):
    v = await open_verification(store, site, [contact], clock)
    [item] = await claim(store, clock)  # the carrier has it; its answer (the sid) is not recorded yet
    for status in ("sent", "undelivered"):  # its reports come first, on this daemon or another
        early = await store.delivery_report(DeliveryReport(carrier="twilio", carrier_message_id="SM7", status=status,
                                                           error_code="30003" if status == "undelivered" else None,
                                                           at=clock.now()), lambda it, rep: [])
        assert not early.known

    def log_for(it, rep) -> list[LogEntry]:
        return [LogEntry(code="SMSFAIL", at=rep.at, verification_id=it.verification_id, comment=rep.status)]

    logged = await store.outbound_sent(item, "twilio", "SM7", clock.now(), log_for)
    assert [e.comment for e in logged] == ["undelivered"]
    got = await store.get_verification(v.id)
    assert (got.status, got.recipients[0].status, got.recipients[0].error) == ("failed", "failed",
                                                                                 "carrier error 30003")
    assert [r.comment for r in await store.event_log(site_id=None, after=0, limit=10)] == ["undelivered"]
    repeat = await store.delivery_report(DeliveryReport(carrier="twilio", carrier_message_id="SM7",
                                                        status="undelivered", error_code="30003", at=clock.now()),
                                         log_for)
    assert repeat.known and repeat.logged == ()  # applied once


async def test_a_report_racing_its_send_record_on_another_daemon_is_applied_either_way(db_url, store, clock):
    """The send's record and a report about it, committed at the same moment by two daemons: each transaction
    takes the carrier message's lock first, so one of them always sees the other's row (without it, on
    PostgreSQL each read missed the other's uncommitted row and the report stayed kept, never applied)."""
    await notice(store, clock, 40)
    items = await claim(store, clock, 40)
    other = open_store(db_url, clock=clock)
    await other.open()
    try:
        for round_ in range(0, len(items), 10):
            await asyncio.gather(*(
                job for i, item in enumerate(items[round_:round_ + 10], start=round_) for job in (
                    store.outbound_sent(item, "twilio", f"SMR{i}", clock.now()),
                    other.delivery_report(DeliveryReport(carrier="twilio", carrier_message_id=f"SMR{i}",
                                                         status="delivered", at=clock.now()), lambda it, rep: []))))
        statuses = [(await store.outbound_by_carrier_id("twilio", f"SMR{i}"))[1] for i in range(len(items))]
        assert statuses == ["delivered"] * len(items)
    finally:
        await other.close()


async def test_verifications_expire_once_with_their_effects(store, site, contact, clock):
    v = await open_verification(store, site, [contact], clock, minutes=5)
    await open_verification(store, site, [contact], clock, vid="ver_info", require_response=False)

    def effects(expired: Verification) -> Decision:
        return Decision(log=[LogEntry(code="SMSTIMEOUT", at=clock.now(), verification_id=expired.id)],
                        notifications=[Notification(event_type="verification.expired", at=clock.now(),
                                                    data={"verification_id": expired.id})])

    assert await store.expire_verifications(clock.now(), effects) == []
    clock.advance(minutes=5)
    [expired] = await store.expire_verifications(clock.now(), effects)
    assert (expired.id, expired.status, expired.timeout_at) == (v.id, "expired", v.timeout_at)
    assert await store.expire_verifications(clock.now(), effects) == []
    assert (await store.get_verification(v.id)).status == "expired"
    assert (await store.get_verification("ver_info")).status == "pending"  # needs no answer: never expires
    assert [r.code for r in await store.event_log(site_id=None, after=0, limit=10)] == ["SMSTIMEOUT"]
    assert await store.get_verification("nope") is None


async def test_response_links_work_once(store, site, contact, clock):
    v = await open_verification(store, site, [contact], clock, message="Door open")
    expires = clock.now() + timedelta(hours=1)
    await store.add_response_token("a" * 64, v.id, contact.id, expires)
    token = await store.response_token("a" * 64)
    assert (token["verification_id"], token["contact_id"], token["expires_at"], token["used_at"]) == (
        v.id, contact.id, expires, None)
    assert (token["verification_status"], token["message"], token["site_id"]) == ("pending", "Door open", site.id)
    assert await store.use_response_token("a" * 64, clock.now()) is True
    assert await store.use_response_token("a" * 64, clock.now()) is False
    assert (await store.response_token("a" * 64))["used_at"] == clock.now()
    assert await store.response_token("b" * 64) is None
    assert token["channel"] == "email"  # the default: links made before channels were recorded came by email
    await store.add_response_token("c" * 64, v.id, contact.id, expires, channel="push")
    assert (await store.response_token("c" * 64))["channel"] == "push"


async def test_the_loopback_record_pages_by_id_and_number(store, clock):
    await notice(store, clock, 3)
    items = await claim(store, clock)
    ids = [await store.record_loopback(item, clock.now()) for item in items]
    assert ids == sorted(ids) and len(set(ids)) == 3
    rows = await store.loopback_messages(to_phone=None, after=0, limit=2)
    assert [r["id"] for r in rows] == ids[:2] and rows[0]["sent_at"] == clock.now()
    assert [r["body"] for r in await store.loopback_messages(to_phone=None, after=ids[1], limit=10)] == ["notice 2"]
    [only] = await store.loopback_messages(to_phone=items[1].to_phone, after=0, limit=10)
    assert (only["outbound_id"], only["from_phone"]) == (items[1].id, items[1].from_phone)


async def test_release_leases_at_start_makes_what_a_dead_process_held_due_on_sqlite_only(store, clock):
    await notice(store, clock, 2)
    await claim(store, clock)
    expected = 2 if store.engine == "sqlite" else 0  # PostgreSQL: another daemon may be sending them
    assert await store.release_leases(clock.now()) == expected
    assert len(await claim(store, clock)) == expected
