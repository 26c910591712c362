"""Reply references on both engines: held per phone and alarm, refused when another alarm holds the number,
free again once their hold ran out; the inbound view carries them with every open verification's site and alarm."""

from __future__ import annotations

import pytest

from gateway.core.reply_refs import HOLD_AFTER_TIMEOUT
from gateway.errors import StaleDecision
from gateway.model import AlarmEvent, Decision, ReplyRef, Site
from tests.conftest import PHONE
from tests.stores.conftest import verification


def ref_for(v, clock, ref: int, key: str, phone: str = PHONE) -> ReplyRef:
    return ReplyRef(phone=phone, ref=ref, alarm_key=key, verification_id=v.id, site_id=v.site_id,
                    created_at=clock.now(), held_until=v.timeout_at + HOLD_AFTER_TIMEOUT)


async def test_a_reference_is_held_per_phone_and_alarm_and_refused_to_another_alarm(store, site, contact, clock):
    alarm = AlarmEvent(id="evt_1", site_id=site.id, event_code="BA", zone="3", text="Door", received_at=clock.now())
    first = verification(site, [contact], clock, vid="ver_1", event_id="evt_1")
    sibling = verification(site, [contact], clock, vid="ver_2", event_id="evt_1", minutes=10)
    # Two processes of one alarm share its reference: held as long as the longer of them.
    await store.commit(Decision(alarm=alarm, opened=[first, sibling],
                                reply_refs=[ref_for(first, clock, 1, "evt_1"), ref_for(sibling, clock, 1, "evt_1")]))
    [held] = (await store.reply_refs([PHONE], clock.now()))[PHONE]
    # the longer-lived verification stands for the alarm
    assert (held.ref, held.alarm_key, held.verification_id, held.site_name) == (1, "evt_1", "ver_2", "Main Office")
    assert held.alarm == alarm and held.open_at(clock.now())
    other = verification(site, [contact], clock, vid="ver_3", event_id=None)
    with pytest.raises(StaleDecision):  # another alarm decided from a snapshot without it: refused, nothing written
        await store.commit(Decision(opened=[other], reply_refs=[ref_for(other, clock, 1, "ver_3")]))
    assert await store.get_verification("ver_3") is None
    await store.commit(Decision(opened=[other], reply_refs=[ref_for(other, clock, 2, "ver_3")]))
    assert [(h.ref, h.alarm_key, h.alarm) for h in (await store.reply_refs([PHONE], clock.now()))[PHONE]] == [
        (1, "evt_1", alarm), (2, "ver_3", None)]
    clock.advance(minutes=6)  # ver_3 timed out, the alarm's longer process has not
    assert [(h.ref, h.open_at(clock.now())) for h in (await store.reply_refs([PHONE], clock.now()))[PHONE]] == [
        (1, True), (2, False)]
    clock.advance(HOLD_AFTER_TIMEOUT.total_seconds())  # ver_3's hold ran out, the alarm's (10 minutes + the hold) has not
    assert [h.ref for h in (await store.reply_refs([PHONE], clock.now()))[PHONE]] == [1]
    clock.advance(minutes=4)
    assert (await store.reply_refs([PHONE], clock.now()))[PHONE] == []
    late = verification(site, [contact], clock, vid="ver_4")
    await store.commit(Decision(opened=[late], reply_refs=[ref_for(late, clock, 1, "ver_4")]))
    assert [(h.ref, h.alarm_key) for h in (await store.reply_refs([PHONE], clock.now()))[PHONE]] == [(1, "ver_4")]


async def test_the_inbound_view_carries_the_references_and_every_open_alarm(store, site, contact, clock):
    warehouse = await store.add_site(Site(id="site_wh", dealer_id="12345", name="Warehouse", created_at=clock.now()))
    alarm = AlarmEvent(id="evt_1", site_id=site.id, event_code="BA", received_at=clock.now())
    first = verification(site, [contact], clock, vid="ver_1", event_id="evt_1")
    await store.commit(Decision(alarm=alarm, opened=[first], reply_refs=[ref_for(first, clock, 1, "evt_1")]))
    clock.advance(1)
    second = verification(warehouse, [contact], clock, vid="ver_2")
    await store.commit(Decision(opened=[second], reply_refs=[ref_for(second, clock, 2, "ver_2")]))
    view = await store.inbound_view(PHONE, clock.now())
    assert view.site == warehouse and view.alarm is None  # the newest's
    assert view.sites == {site.id: site, warehouse.id: warehouse} and view.alarms == {"evt_1": alarm}
    assert [(h.ref, h.verification_id, h.status) for h in view.refs] == [(1, "ver_1", "pending"), (2, "ver_2", "pending")]
    assert (await store.inbound_view("+15559990000", clock.now())).refs == []
