"""The pipeline's one read (everything deciding on a text needs) and one write (a whole decision)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from gateway.errors import StaleDecision
from gateway.core.reply_refs import HeldRef
from gateway.model import Decision, OutboundMessage
from gateway.stores.connector import Body, Op
from gateway.stores.manager.base import (
    StoreBase, interface_state_row, outbound_row, write_log, write_notifications, write_outbound,
)
from gateway.stores.records import (
    CommitResult, InboundView, contact_from_row, dispatch_from_row, held_ref_from_row, interface_state_from_row,
    site_and_alarm_of, verification_from_row,
)


class PipelineStore(StoreBase):
    async def inbound_view(self, phone: str, now: datetime) -> InboundView:
        """The contacts with this number, its interface state and the verifications it may answer."""
        # One body of a few indexed reads: on SQLite run on the event loop's thread, without a hand-off.
        return await self.db.read_few(_inbound_view, phone, now)

    async def reply_refs(self, phones: list[str], now: datetime) -> dict[str, list[HeldRef]]:
        """The reply references each of ``phones`` holds at ``now`` (gateway/core/reply_refs.py)."""
        return await self.db.read_few(_reply_refs, phones, now)

    async def commit(self, decision: Decision) -> CommitResult:
        """Write everything ``decision`` holds in one transaction.

        The inbound message (or alarm event) is recorded first; when its id was seen
        before, nothing is written and ``duplicate`` is true. Replies are recorded as
        outbound messages already sent inline. A response to a verification that is no
        longer open raises :class:`StaleDecision` and nothing is written.
        """
        return await self.db.transaction(_commit, decision, self.clock.now())


def _inbound_view(phone: str, now: datetime) -> Body[InboundView]:
    # The contacts and the state in one round trip (the turn's BEGIN and COMMIT are the others every text pays).
    found = yield Op("phone_lookup", {"phone": phone})
    contacts = [contact_from_row(r) for r in found if r["id"] is not None]
    state = {k[6:]: v for k, v in found[0].items() if k.startswith("state_")} if found[0]["state_phone"] else None
    open_, dispatches, site, alarm, sites, alarms, refs = [], [], None, None, {}, {}, []
    if contacts:
        rows = yield Op("open_verifications_for_phone", {"phone": phone, "now": now})
        open_ = [(verification_from_row(r), r["recipient_contact_id"]) for r in rows]
        for row in reversed(rows):  # the newest's last: it wins where two rows name one site
            site, alarm = site_and_alarm_of(row)
            sites[site.id] = site
            if alarm is not None:
                alarms[alarm.id] = alarm
        if rows:  # only a number with an open verification pays this read
            refs = [held_ref_from_row(r) for r in (yield Op("reply_refs_for_phone", {"phone": phone, "now": now}))]
        dispatches = [dispatch_from_row(r)
                      for r in (yield Op("open_dispatches_for_phone", {"phone": phone, "now": now}))]
    return InboundView(contacts=contacts, state=interface_state_from_row(state) if state else None,
                       open=open_, site=site, alarm=alarm, dispatches=dispatches, sites=sites, alarms=alarms,
                       refs=refs)


def _reply_refs(phones: list[str], now: datetime) -> Body[dict[str, list[HeldRef]]]:
    held = {}
    for phone in dict.fromkeys(phones):
        held[phone] = [held_ref_from_row(r) for r in (yield Op("reply_refs_for_phone", {"phone": phone, "now": now}))]
    return held


def _commit(decision: Decision, now: datetime) -> Body[CommitResult]:
    inbound_id = None
    msg = decision.inbound
    if msg is not None:
        row = yield Op("insert_inbound", {
            "carrier": msg.carrier, "carrier_message_id": msg.carrier_message_id, "from_phone": msg.from_phone,
            "to_phone": msg.to_phone, "body": msg.body, "received_at": msg.received_at})
        if row is None:
            return CommitResult(duplicate=True)
        inbound_id = row["id"]
    if (a := decision.alarm) is not None:
        if not (yield Op("insert_alarm_event", {"id": a.id, "site_id": a.site_id, "event_code": a.event_code,
                                                "zone": a.zone, "text": a.text, "received_at": a.received_at})):
            return CommitResult(duplicate=True)
    for v in decision.opened:
        yield Op("insert_verification", {
            "id": v.id, "site_id": v.site_id, "event_id": v.event_id, "process": v.process, "status": v.status,
            "created_at": v.created_at, "timeout_at": v.timeout_at, "method": v.method,
            "require_response": v.require_response, "message": v.message,
            "call_list": msgspec.json.encode(v.call_list).decode() if v.call_list else None})
        if v.recipients:
            yield Op("insert_recipients", [
                {"verification_id": v.id, "contact_id": r.contact_id, "phone": r.phone, "email": r.email,
                 "channel": r.channel, "status": r.status, "error": r.error, "step": r.step, "due_at": r.due_at}
                for r in v.recipients])
    for ref in decision.reply_refs:
        if (yield Op("hold_reply_ref", msgspec.structs.asdict(ref))) is None:
            # Another alarm took this number for the phone since the decision read it: decide again.
            raise StaleDecision(f"reply reference {ref.ref} of {ref.phone} is taken", verification_id=ref.verification_id)
    for d in decision.dispatches:
        yield Op("insert_dispatch", {"id": d.id, "site_id": d.site_id, "template": d.template, "code": d.code,
                                     "created_at": d.created_at, "reply_until": d.reply_until})
        if d.recipients:
            yield Op("insert_dispatch_recipients", [{"dispatch_id": d.id, "contact_id": contact_id, "phone": phone}
                                                    for contact_id, phone in d.recipients])
    for resp in decision.responses:
        params = {"verification_id": resp.verification_id, "contact_id": resp.contact_id,
                  "response": resp.response, "at": resp.at}
        if not (yield Op("respond_verification", params)):
            # Answered or expired since the pipeline read it: nothing of this decision may stand.
            raise StaleDecision(f"verification {resp.verification_id} is no longer open",
                                verification_id=resp.verification_id)
        yield Op("respond_recipient", params)
        yield Op("end_call_list", {"verification_id": resp.verification_id})  # nobody later is reached
    outbound = [outbound_row(out, now) for out in decision.outbound] + _replies(decision, inbound_id, now)
    yield from write_outbound(outbound)
    if decision.interface_state is not None:
        yield Op("put_interface_state", interface_state_row(decision.interface_state, now))
    for test in decision.site_tests:
        yield Op("set_site_test", {"site_id": test.site_id, "until": test.until})
    yield from write_log(decision.log)
    yield from write_notifications(decision.notifications)
    return CommitResult(inbound_id=inbound_id)


def _replies(decision: Decision, inbound_id: int | None, now: datetime) -> list[dict[str, Any]]:
    """The replies that go back inline with the webhook's answer, recorded as sent with it."""
    msg = decision.inbound
    if msg is None:
        return []
    return [{**outbound_row(OutboundMessage(to_phone=msg.from_phone, from_phone=msg.to_phone, body=text, kind="reply"),
                            now), "status": "sent", "inbound_id": inbound_id, "carrier": msg.carrier, "sent_at": now}
            for text in decision.replies]
