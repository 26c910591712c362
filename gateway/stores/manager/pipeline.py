"""The pipeline's one read (everything deciding on a text needs) and one write (a whole decision)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from gateway.errors import StaleDecision
from gateway.core.reply_refs import HeldRef
from gateway.model import Decision, OutboundMessage, ReplyRef, VerificationResponse
from gateway.stores.connector import Body, Op, Rows
from gateway.stores.manager.base import (
    OUTBOX_CHANNEL, WEBHOOKS_CHANNEL, StoreBase, interface_state_row, log_rows, notification_rows, outbound_row,
)
from gateway.stores.records import (
    CommitResult, InboundView, contact_from_row, dispatch_from_row, held_ref_from_row, interface_state_from_row,
    site_and_alarm_of, verification_from_row,
)


class PipelineStore(StoreBase):
    async def inbound_view(self, phone: str, now: datetime) -> InboundView:
        """The contacts with this number, its interface state and the verifications it may answer."""
        # One body of a few indexed reads (on SQLite run on the event loop's thread, without a hand-off); an engine
        # that offers them as one statement (PostgreSQL) reads them in one round trip.
        return await self.db.read_few(_inbound_view, phone, now, self.db.offers("inbound_view"))

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
        rows = _commit_rows(decision, self.clock.now())
        # An engine with a server-side function for it writes the decision in one operation (PostgreSQL: one
        # round trip instead of one per statement); the generic body runs the same statements one by one.
        body = _commit_at_once if self.db.offers("commit_decision") else _commit
        return await self.db.transaction(body, decision, rows)


def _inbound_view(phone: str, now: datetime, at_once: bool) -> Body[InboundView]:
    params = {"phone": phone, "now": now}
    if at_once:
        found = yield Op("inbound_view", params)
        contact_rows, state, rows = found["contacts"], found["state"], found["open"] or ()
        ref_rows, dispatch_rows = found["refs"] or (), found["dispatches"] or ()
    else:
        # The contacts and the state in one read (state_* columns on every row, contact columns NULL without one).
        lookup = yield Op("phone_lookup", params)
        contact_rows = [r for r in lookup if r["id"] is not None]
        state = {k[6:]: v for k, v in lookup[0].items() if k.startswith("state_")} \
            if lookup[0]["state_phone"] else None
        rows, ref_rows, dispatch_rows = (), (), ()
        if contact_rows:
            rows = yield Op("open_verifications_for_phone", params)
            if rows:  # only a number with an open verification pays this read
                ref_rows = yield Op("reply_refs_for_phone", params)
            dispatch_rows = yield Op("open_dispatches_for_phone", params)
    contacts = [contact_from_row(r) for r in contact_rows]
    open_ = [(verification_from_row(r), r["recipient_contact_id"]) for r in rows]
    site, alarm, sites, alarms = None, None, {}, {}
    for row in reversed(rows):  # the newest's last: it wins where two rows name one site
        site, alarm = site_and_alarm_of(row)
        sites[site.id] = site
        if alarm is not None:
            alarms[alarm.id] = alarm
    return InboundView(contacts=contacts, state=interface_state_from_row(state) if state else None,
                       open=open_, site=site, alarm=alarm, dispatches=[dispatch_from_row(r) for r in dispatch_rows],
                       sites=sites, alarms=alarms, refs=[held_ref_from_row(r) for r in ref_rows])


def _reply_refs(phones: list[str], now: datetime) -> Body[dict[str, list[HeldRef]]]:
    held = {}
    for phone in dict.fromkeys(phones):
        held[phone] = [held_ref_from_row(r) for r in (yield Op("reply_refs_for_phone", {"phone": phone, "now": now}))]
    return held


def _commit_rows(decision: Decision, now: datetime) -> Rows:
    """Every row ``decision`` writes, by what it is: what both ways of committing it write."""
    msg, a = decision.inbound, decision.alarm
    outbound = [outbound_row(out, now) for out in decision.outbound]
    replies = _replies(decision, now)
    notify = [OUTBOX_CHANNEL] if any(row["status"] == "queued" for row in outbound + replies) else []
    if decision.notifications:
        notify.append(WEBHOOKS_CHANNEL)
    return Rows(
        inbound=None if msg is None else {
            "carrier": msg.carrier, "carrier_message_id": msg.carrier_message_id, "from_phone": msg.from_phone,
            "to_phone": msg.to_phone, "body": msg.body, "received_at": msg.received_at},
        alarm=None if a is None else {"id": a.id, "site_id": a.site_id, "event_code": a.event_code, "zone": a.zone,
                                      "text": a.text, "received_at": a.received_at},
        verifications=[{
            "id": v.id, "site_id": v.site_id, "event_id": v.event_id, "process": v.process, "status": v.status,
            "created_at": v.created_at, "timeout_at": v.timeout_at, "method": v.method,
            "require_response": v.require_response, "message": v.message,
            "call_list": msgspec.json.encode(v.call_list).decode() if v.call_list else None}
            for v in decision.opened],
        recipients=[{"verification_id": v.id, "contact_id": r.contact_id, "phone": r.phone, "email": r.email,
                     "channel": r.channel, "status": r.status, "error": r.error, "step": r.step, "due_at": r.due_at}
                    for v in decision.opened for r in v.recipients],
        refs=[msgspec.structs.asdict(ref) for ref in decision.reply_refs],
        dispatches=[{"id": d.id, "site_id": d.site_id, "template": d.template, "code": d.code,
                     "created_at": d.created_at, "reply_until": d.reply_until} for d in decision.dispatches],
        dispatch_recipients=[{"dispatch_id": d.id, "contact_id": contact_id, "phone": phone}
                             for d in decision.dispatches for contact_id, phone in d.recipients],
        responses=[{"verification_id": r.verification_id, "contact_id": r.contact_id, "response": r.response,
                    "at": r.at} for r in decision.responses],
        outbound=outbound, replies=replies, notify=notify,
        state=None if decision.interface_state is None else interface_state_row(decision.interface_state, now),
        site_tests=[{"site_id": t.site_id, "until": t.until} for t in decision.site_tests],
        log=log_rows(decision.log), notifications=notification_rows(decision.notifications),
    )


def _ref_taken(ref: ReplyRef) -> StaleDecision:
    # Another alarm took this number for the phone since the decision read it: decide again.
    return StaleDecision(f"reply reference {ref.ref} of {ref.phone} is taken", verification_id=ref.verification_id)


def _no_longer_open(resp: VerificationResponse) -> StaleDecision:
    # Answered or expired since the pipeline read it: nothing of this decision may stand.
    return StaleDecision(f"verification {resp.verification_id} is no longer open",
                         verification_id=resp.verification_id)


def _commit_at_once(decision: Decision, rows: Rows) -> Body[CommitResult]:
    """The engine's one operation for the whole decision (PostgreSQL: migrations/0016_one_trip.sql)."""
    result = yield Op("commit_decision", {"rows": rows})
    if result.get("duplicate"):
        return CommitResult(duplicate=True)
    if "stale_ref" in result:
        raise _ref_taken(decision.reply_refs[result["stale_ref"]])
    if "stale_response" in result:
        raise _no_longer_open(decision.responses[result["stale_response"]])
    return CommitResult(inbound_id=result["inbound_id"])


def _commit(decision: Decision, rows: Rows) -> Body[CommitResult]:
    """The same, a statement at a time (the statements gateway_commit_decision runs, in its order)."""
    inbound_id = None
    if rows["inbound"] is not None:
        row = yield Op("insert_inbound", rows["inbound"])
        if row is None:
            return CommitResult(duplicate=True)
        inbound_id = row["id"]
    if rows["alarm"] is not None and not (yield Op("insert_alarm_event", rows["alarm"])):
        return CommitResult(duplicate=True)
    for v in rows["verifications"]:
        yield Op("insert_verification", v)
    if rows["recipients"]:
        yield Op("insert_recipients", rows["recipients"])
    for ref, row in zip(decision.reply_refs, rows["refs"]):
        if (yield Op("hold_reply_ref", row)) is None:
            raise _ref_taken(ref)
    for d in rows["dispatches"]:
        yield Op("insert_dispatch", d)
    if rows["dispatch_recipients"]:
        yield Op("insert_dispatch_recipients", rows["dispatch_recipients"])
    for resp, params in zip(decision.responses, rows["responses"]):
        if not (yield Op("respond_verification", params)):
            raise _no_longer_open(resp)
        yield Op("respond_recipient", params)
        yield Op("end_call_list", {"verification_id": resp.verification_id})  # nobody later is reached
    if outbound := rows["outbound"] + [{**r, "inbound_id": inbound_id} for r in rows["replies"]]:
        yield Op("insert_outbound", outbound)
    if rows["state"] is not None:
        yield Op("put_interface_state", rows["state"])
    for test in rows["site_tests"]:
        yield Op("set_site_test", test)
    if rows["log"]:
        yield Op("insert_log", rows["log"])
    if rows["notifications"]:
        yield Op("insert_webhook_events", rows["notifications"])
    for channel in rows["notify"]:  # every daemon's sender or webhook fan-out woken at commit
        yield Op("notify", {"channel": channel, "payload": ""})
    return CommitResult(inbound_id=inbound_id)


def _replies(decision: Decision, now: datetime) -> list[dict[str, Any]]:
    """The replies that go back inline with the webhook's answer, recorded as sent with it (``inbound_id``: the
    text's, once it is recorded)."""
    msg = decision.inbound
    if msg is None:
        return []
    return [{**outbound_row(OutboundMessage(to_phone=msg.from_phone, from_phone=msg.to_phone, body=text, kind="reply"),
                            now), "status": "sent", "carrier": msg.carrier, "sent_at": now}
            for text in decision.replies]
