"""Call lists in the store, on both engines: which verifications have a step due, reaching one step once
(even when two daemons try at the same moment), a failed step making the next one due at once, and the first
answer ending the list."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from gateway.core import call_list
from gateway.core.keywords import AutoProcess
from gateway.model import CallList, CallStep, Contact, Decision, Verification, VerificationResponse

PROCESS = AutoProcess("burglary", frozenset({"BA"}), "ALARM at {site_name}", 600, "SMSSENT", "SMSReply",
                      "SMSPINReply", "SMSTIMEOUT", ())
IN_ORDER = CallList(mode="in_order", step_seconds=60, steps=(CallStep(methods=("sms",)),), timeout_seconds=600)


async def _people(store, site, clock) -> list[Contact]:
    return [await store.add_contact(Contact(id=0, site_id=site.id, first_name=name, last_name="Key",
                                            phone=f"+1555010000{i}", auto_notify=True, call_order=i,
                                            created_at=clock.now()))
            for i, name in enumerate(("Alice", "Bob", "Carol"), start=1)]


async def _open(store, site, people, clock) -> Verification:
    decision = Decision()
    v = Verification(id="ver_list", site_id=site.id, event_id=None, process="burglary", status="pending",
                     created_at=clock.now(), timeout_at=clock.now() + timedelta(seconds=600), call_list=IN_ORDER,
                     recipients=call_list.first_rows(people, IN_ORDER, clock.now()))
    call_list.open_list(decision, call_list.Listing(verification=v, site=site, alarm=None,
                                                    contacts={c.id: c for c in people}, process=PROCESS,
                                                    central_station="Acme", from_phone="+15550000000"), clock.now())
    await store.commit(decision)
    return decision.opened[0]


def _plan(clock):
    def plan(view):
        return call_list.reach(call_list.Listing(
            verification=view.verification, site=view.site, alarm=view.alarm, contacts=view.contacts,
            process=PROCESS, central_station="Acme", from_phone="+15550000000", opted_out=view.opted_out),
            clock.now())
    return plan


async def _steps(store, v) -> list[tuple[int, str]]:
    return [(r.step, r.status) for r in sorted((await store.get_verification(v.id)).recipients, key=lambda r: r.step)]


async def test_a_step_is_due_after_its_seconds_and_reached_once(store, site, clock):
    people = await _people(store, site, clock)
    v = await _open(store, site, people, clock)
    assert await _steps(store, v) == [(1, "pending"), (2, "waiting"), (3, "waiting")]
    assert await store.due_call_lists(clock.now()) == []
    assert await store.next_call_list_due() == clock.now() + timedelta(seconds=60)
    clock.advance(60)
    assert await store.due_call_lists(clock.now()) == [v.id]
    # Two daemons at the same moment: one reaches Bob, the other finds nothing left to do.
    results = await asyncio.gather(*(store.reach_call_list(v.id, clock.now(), _plan(clock)) for _ in range(2)))
    assert sorted(len(r.outbound) if r else 0 for r in results) == [0, 1]
    assert await _steps(store, v) == [(1, "pending"), (2, "pending"), (3, "waiting")]
    texts = await store.outbound_texts(verification_id=v.id, limit=10)
    assert [t.to_phone for t in texts] == [people[0].phone, people[1].phone]
    assert await store.due_call_lists(clock.now()) == []
    clock.advance(60)
    assert await store.due_call_lists(clock.now()) == [v.id]  # Carol is due 60 s after Bob was reached


async def test_a_step_whose_text_failed_makes_the_next_one_due_at_once(store, site, clock):
    people = await _people(store, site, clock)
    v = await _open(store, site, people, clock)
    [item] = await store.claim_outbound(clock.now(), clock.now() + timedelta(seconds=60), 10)
    await store.outbound_failed(item, "failed", "30003", "Unreachable destination handset", clock.now(), [])
    assert await store.due_call_lists(clock.now()) == [v.id]
    assert (await store.get_verification(v.id)).status == "pending"  # Bob and Carol are still to come


async def test_the_first_answer_ends_the_list(store, site, clock):
    people = await _people(store, site, clock)
    v = await _open(store, site, people, clock)
    await store.commit(Decision(responses=[VerificationResponse(verification_id=v.id, contact_id=people[0].id,
                                                                response="confirmed", at=clock.now())]))
    assert await _steps(store, v) == [(1, "pending"), (2, "not_reached"), (3, "not_reached")]
    assert await store.next_call_list_due() is None
    clock.advance(600)
    assert await store.due_call_lists(clock.now()) == []
    assert await store.reach_call_list(v.id, clock.now(), _plan(clock)) is None  # answered: not open
