"""The event log and webhook deliveries on both engines."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from gateway.model import Decision, LogEntry, Notification
from gateway.stores import open_store

LEASE = timedelta(seconds=60)


async def log(store, clock, *codes: str, site_id: str | None = "site_main") -> None:
    await store.commit(Decision(log=[LogEntry(code=c, at=clock.now(), site_id=site_id, comment=f"{c} row",
                                              trace_id="t1") for c in codes]))


async def test_the_event_log_pages_by_id_and_site(store, site, clock):
    await log(store, clock, "BA", "SMSSENT")
    await log(store, clock, "X", site_id=None)
    await log(store, clock, "SMSYES")
    every = await store.event_log(site_id=None, after=0, limit=10)
    assert [r.code for r in every] == ["BA", "SMSSENT", "X", "SMSYES"]
    assert [r.id for r in every] == sorted(r.id for r in every)
    assert (every[0].at, every[0].comment, every[0].trace_id, every[0].details) == (clock.now(), "BA row", "t1", None)
    page = await store.event_log(site_id=site.id, after=every[0].id, limit=2)
    assert [r.code for r in page] == ["SMSSENT", "SMSYES"]
    assert await store.event_log(site_id=site.id, after=every[-1].id, limit=10) == []


async def test_recent_events_leave_hidden_codes_out_before_counting(store, site, clock):
    await log(store, clock, "BA", "DURESS", "SMSYES", "DURESS", "SMSOPEN")
    recent = await store.recent_events(site.id, 3, ["DURESS", "SMSBADPIN"])
    assert [r.code for r in recent] == ["SMSOPEN", "SMSYES", "BA"]  # newest first, three shown
    assert [r.code for r in await store.recent_events(site.id, 2)] == ["SMSOPEN", "DURESS"]


def notify(clock, *kinds: str) -> Decision:
    return Decision(notifications=[Notification(event_type=k, at=clock.now(), data={"kind": k, "n": [1]})
                                   for k in kinds])


async def test_webhook_events_fan_out_once_and_are_claimed_and_marked(store, clock):
    await store.commit(notify(clock, "verification.responded", "verification.expired"))

    def subscribers(kind: str, created_at) -> list[str]:
        assert created_at == clock.now()
        return ["https://a.example/all"] + (["https://b.example/exp"] if kind.endswith("expired") else [])

    assert await store.fan_out_webhook_events(clock.now(), subscribers, 1) == 1
    assert await store.fan_out_webhook_events(clock.now(), subscribers, 10) == 1
    assert await store.fan_out_webhook_events(clock.now(), subscribers, 10) == 0  # caught up: once each
    claimed = await store.claim_webhook_deliveries(clock.now(), clock.now() + LEASE, 10)
    assert [(d.subscriber, d.event_type, d.attempts) for d in claimed] == [
        ("https://a.example/all", "verification.responded", 1), ("https://a.example/all", "verification.expired", 1),
        ("https://b.example/exp", "verification.expired", 1)]
    assert claimed[0].data == {"kind": "verification.responded", "n": [1]}
    assert claimed[0].event_created_at == clock.now()
    assert await store.claim_webhook_deliveries(clock.now(), clock.now() + LEASE, 10) == []  # leased
    first, second, third = claimed
    await store.webhook_delivered(first.id, clock.now())
    await store.webhook_retry(second.id, clock.now() + timedelta(seconds=10), "HTTP 500")
    entry = LogEntry(code="WEBHOOKFAIL", at=clock.now(), comment="given up")
    await store.webhook_failed(third.id, "HTTP 410", [entry])
    clock.advance(61)
    [again] = await store.claim_webhook_deliveries(clock.now(), clock.now() + LEASE, 10)
    assert (again.id, again.attempts) == (second.id, 2)
    assert [r.code for r in await store.event_log(site_id=None, after=0, limit=10)] == ["WEBHOOKFAIL"]


async def test_release_webhook_leases_at_start_on_sqlite_only(store, clock):
    await store.commit(notify(clock, "verification.responded"))
    await store.fan_out_webhook_events(clock.now(), lambda kind, at: ["hook"], 10)
    await store.claim_webhook_deliveries(clock.now(), clock.now() + LEASE, 10)
    expected = 1 if store.engine == "sqlite" else 0
    assert await store.release_webhook_leases(clock.now()) == expected
    assert len(await store.claim_webhook_deliveries(clock.now(), clock.now() + LEASE, 10)) == expected


async def test_two_daemons_fanning_out_at_once_queue_each_delivery_once(db_url, store, clock):
    await store.commit(notify(clock, *[f"e{i}" for i in range(30)]))
    other = open_store(db_url, clock=clock)
    await other.open()
    try:
        for _ in range(10):
            read = await asyncio.gather(store.fan_out_webhook_events(clock.now(), lambda k, at: ["hook"], 4),
                                        other.fan_out_webhook_events(clock.now(), lambda k, at: ["hook"], 4))
            if not any(read):
                break
        claimed = await asyncio.gather(store.claim_webhook_deliveries(clock.now(), clock.now() + LEASE, 20),
                                       other.claim_webhook_deliveries(clock.now(), clock.now() + LEASE, 20))
        ids = [d.webhook_event_id for batch in claimed for d in batch]
        assert len(ids) == 30 and len(set(ids)) == 30
        assert {d.id for d in claimed[0]}.isdisjoint(d.id for d in claimed[1])
    finally:
        await other.close()


async def test_rows_logged_alone_are_in_the_event_log(store, site, clock):
    await store.log([LogEntry(code="CANARYMISSED", at=clock.now(), phone="+15550100099", details={"token": "t"}),
                     LogEntry(code="BA", at=clock.now(), site_id=site.id)])
    await store.log([])
    rows = await store.event_log(site_id=None, after=0, limit=10)
    assert [(r.code, r.phone, r.site_id, r.details) for r in rows] == [
        ("CANARYMISSED", "+15550100099", None, {"token": "t"}), ("BA", None, site.id, None)]
