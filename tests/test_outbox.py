"""The sender loop: priorities, retries with backoff, permanent failures, stale alarm texts."""

from __future__ import annotations

from gateway.carriers import Carrier
from gateway.errors import CarrierError
from gateway.model import PRIORITY_NOTICE, PRIORITY_VERIFICATION, Decision, OutboundMessage
from gateway.loops.sender import OutboxSender
from gateway.web.appkeys import CARRIER, METRICS
from tests import storage
from tests.conftest import PHONE
from tests.helpers import event_log, post_alarm


class ScriptedCarrier(Carrier):
    """Answers each send with the next scripted outcome: an exception to raise, or success."""

    name = "scripted"

    def __init__(self, services, script):
        super().__init__(services)
        self.script = list(script)
        self.sent: list[str] = []

    async def send(self, item):
        outcome = self.script.pop(0) if self.script else None
        if isinstance(outcome, Exception):
            raise outcome
        self.sent.append(item.body)
        return f"SC{len(self.sent)}"


def sender_with(app, store, clock, config, script):
    carrier = ScriptedCarrier(app[CARRIER].services, script)
    return carrier, OutboxSender(store, carrier, clock, app[METRICS], config.outbox)


async def queue(store, *messages):
    await store.commit(Decision(outbound=list(messages)))


async def test_highest_priority_then_oldest_first(app, store, clock, config):
    carrier, sender = sender_with(app, store, clock, config, [])
    await queue(store,
                OutboundMessage(to_phone=PHONE, body="notice 1", kind="notice", priority=PRIORITY_NOTICE),
                OutboundMessage(to_phone=PHONE, body="alarm 1", kind="verification", priority=PRIORITY_VERIFICATION),
                OutboundMessage(to_phone=PHONE, body="notice 2", kind="notice", priority=PRIORITY_NOTICE),
                OutboundMessage(to_phone=PHONE, body="alarm 2", kind="verification", priority=PRIORITY_VERIFICATION))
    assert await sender.run_once() == 4
    assert carrier.sent == ["alarm 1", "alarm 2", "notice 1", "notice 2"]


async def test_retryable_error_backs_off_then_sends(app, store, clock, config):
    carrier, sender = sender_with(app, store, clock, config, [CarrierError("busy", retryable=True, code="20429")])
    await queue(store, OutboundMessage(to_phone=PHONE, body="hello", kind="notice"))
    assert await sender.run_once() == 1 and carrier.sent == []
    assert await sender.run_once() == 0  # not due yet: backing off
    clock.advance(config.outbox.backoff_base_seconds)
    assert await sender.run_once() == 1 and carrier.sent == ["hello"]
    assert await store.outbox_depth() == 0


async def test_permanent_error_fails_at_once_and_is_logged(client, app, store, clock, config, auth, site, contact):
    carrier, sender = sender_with(app, store, clock, config,
                                  [CarrierError("Unreachable destination", retryable=False, code="21614")])
    data = await post_alarm(client, auth, site.id, "BA")
    await sender.run_once()
    row = (await event_log(client, auth, site.id))[-1]
    assert row["code"] == "SMSFAIL" and "Unreachable destination" in row["comment"]
    assert row["details"]["error_code"] == "21614" and row["contact_id"] == contact.id
    assert row["details"]["outbox_id"] == storage.rows(config.database.url, "outbound_messages")[-1]["id"]
    verification = await store.get_verification(data["verifications"][0]["verification_id"])
    assert verification.recipients[0].status == "failed"


async def test_retries_run_out(app, store, clock, config):
    failures = [CarrierError("timeout", retryable=True)] * config.outbox.max_attempts
    carrier, sender = sender_with(app, store, clock, config, failures)
    await queue(store, OutboundMessage(to_phone=PHONE, body="x", kind="notice"))
    for _ in range(config.outbox.max_attempts):
        await sender.run_once()
        clock.advance(config.outbox.backoff_max_seconds)
    assert await store.outbox_depth() == 0 and carrier.sent == []


async def test_stale_alarm_text_is_not_sent(client, app, store, clock, config, auth, site, contact):
    carrier, sender = sender_with(app, store, clock, config, [])
    await post_alarm(client, auth, site.id, "BA")
    clock.advance(301)  # past the verification timeout: the text would arrive too late to matter
    await sender.run_once()
    assert carrier.sent == []
    stale = (await event_log(client, auth, site.id))[-1]
    assert stale["code"] == "SMSSTALE"
    assert stale["details"] == {"outbox_id": storage.rows(config.database.url, "outbound_messages")[-1]["id"]}


async def test_a_crashing_carrier_loses_nothing(app, store, clock, config):
    carrier, sender = sender_with(app, store, clock, config, [RuntimeError("bug")])
    await queue(store, OutboundMessage(to_phone=PHONE, body="keep me", kind="notice"))
    await sender.run_once()
    clock.advance(config.outbox.backoff_base_seconds)
    await sender.run_once()
    assert carrier.sent == ["keep me"]


async def test_expired_lease_is_claimed_again(app, store, clock, config):
    carrier, sender = sender_with(app, store, clock, config, [])
    await queue(store, OutboundMessage(to_phone=PHONE, body="lost sender", kind="notice"))
    now = clock.now()
    from datetime import timedelta

    [claimed] = await store.claim_outbound(now, now + timedelta(seconds=60), 10)  # a sender that then died
    assert await sender.run_once() == 0
    clock.advance(61)
    assert await sender.run_once() == 1 and carrier.sent == ["lost sender"]
    assert claimed.attempts == 1


async def test_a_deferral_gives_the_attempt_back(app, store, clock, config):
    from datetime import timedelta

    await queue(store, OutboundMessage(to_phone=PHONE, body="later", kind="notice"))
    [item] = await store.claim_outbound(clock.now(), clock.now() + timedelta(seconds=60), 10)
    assert item.attempts == 1
    await store.outbound_defer(item, clock.now(), "rate limit: deferred", clock.now())
    [again] = await store.claim_outbound(clock.now(), clock.now() + timedelta(seconds=60), 10)
    assert again.attempts == 1  # not 2: no carrier saw it


async def test_a_failure_while_preparing_releases_the_rest_of_the_batch(app, store, clock, config, monkeypatch):
    carrier, sender = sender_with(app, store, clock, config, [])
    await queue(store, *(OutboundMessage(to_phone=PHONE, body=f"m{n}", kind="notice") for n in range(3)))
    real = store.opted_out
    calls = []

    async def flaky(phone):
        calls.append(phone)
        if len(calls) == 2:
            raise RuntimeError("store hiccup")
        return await real(phone)

    monkeypatch.setattr(store, "opted_out", flaky)
    await sender.run_once()
    assert carrier.sent == ["m0"]
    monkeypatch.setattr(store, "opted_out", real)
    assert await sender.run_once() == 2  # due again at once, not after the 60 s lease
    assert carrier.sent == ["m0", "m1", "m2"]
