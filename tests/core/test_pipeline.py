"""The pipeline decides one inbound text without HTTP or a store: what it logs, answers and changes."""

from __future__ import annotations

from datetime import timedelta

from gateway.config import Interface, Verifications
from gateway.core.interface import Access
from gateway.core.pin import PinCheck, masked, split_pin
from gateway.core.pipeline import Sender, Text, decide_inbound
from gateway.model import Decision, Dispatch, InboundMessage, InterfaceState, Notification, VerificationResponse
from tests.core.records import GATEWAY, NOW, OTHER_PHONE, PHONE, TABLE, alarm, contact, site, verification

CONFIRMED = "Thank you John. Alarm at Main Office CONFIRMED."


def decide(body: str, sender: Sender, check: PinCheck = PinCheck.ABSENT, *, phone: str = PHONE,
           sent_at=None, now=NOW) -> Decision:
    """As the inbound service does it: the PIN split off, the text masked, the check's result handed in.
    ``sent_at``: a text recovered late from the carrier, which took it then."""
    words, pin = split_pin(body)
    msg = InboundMessage(carrier="loopback", carrier_message_id="SM1", from_phone=phone, to_phone=GATEWAY,
                         body=masked(body, pin), received_at=now, carrier_received_at=sent_at)
    return decide_inbound(msg, sender, Text(words=words, stored=msg.body, pin=check), TABLE, Interface(),
                          Verifications())


def answering(*opened, **fields) -> Sender:
    """Contact 1's number with ``opened`` (newest first) sent to it; ``verification()`` when none given."""
    fields.setdefault("access", Access(contact=contact(pin_hash="$argon2id$..."), sites=[site()]))
    return Sender(contacts=[contact()], open=[(v, 1) for v in opened or [verification()]],
                  sites={"site_main": site()}, alarms={"evt_1": alarm()}, **fields)


def rows(decision: Decision, *fields: str) -> list[tuple]:
    return [tuple(getattr(entry, f) for f in ("code", *fields)) for entry in decision.log]


def test_a_keyword_answers_the_verification_and_settles_it():
    decision = decide("Yes!", answering())
    assert rows(decision, "verification_id", "event_id", "contact_id", "comment", "details") == [
        ("SMSYES", "ver_1", "evt_1", 1, "Yes!", {"keyword": "YES", "outcome": "confirm"})]
    assert decision.replies == [CONFIRMED]
    assert decision.responses == [VerificationResponse(verification_id="ver_1", contact_id=1, response="confirmed",
                                                       at=NOW)]
    assert decision.notifications == [Notification(event_type="verification.responded", at=NOW, data={
        "verification_id": "ver_1", "event_id": "evt_1", "site_id": "site_main", "contact_id": 1,
        "response": "confirmed", "responded_at": "2026-01-15T15:30:00.000Z"})]
    assert decision.interface_state == InterfaceState(phone=PHONE, replies=1, replies_since=NOW)  # budget spent


def test_one_answer_settles_every_process_of_the_same_alarm_and_no_other():
    opened = (verification(), verification(id="ver_2", process="supervisor"),
              verification(id="ver_3", event_id="evt_2"))
    decision = decide("n", answering(*opened))
    assert [(r.verification_id, r.response) for r in decision.responses] == [("ver_1", "cancelled"),
                                                                              ("ver_2", "cancelled")]
    assert rows(decision, "verification_id") == [("SMSNO", "ver_1"), ("SMSNO", "ver_2")]
    assert decision.replies == ["Thank you John. Alarm at Main Office CANCELLED."]  # one answer, one reply


def test_a_help_keyword_answers_and_settles_nothing():
    decision = decide("HELP", answering())  # a command word too: the open verification's keywords come first
    assert rows(decision) == [("SMSHELP",)] and decision.responses == []
    assert decision.replies == ["Reply YES to confirm or NO to cancel."]


def test_any_other_answer_logs_the_processes_response_code_with_the_text():
    decision = decide("on my way", answering())
    assert rows(decision, "verification_id", "comment") == [("SMSReply", "ver_1", "on my way")]
    assert decision.replies == [] and decision.responses == []


def test_a_reply_carrying_the_pin_logs_the_pin_response_and_never_the_pin():
    decision = decide("YES 4821", answering(), PinCheck.VALID)
    assert rows(decision, "comment") == [("SMSYES", "YES ****"), ("SMSPINReply", "YES ****")]
    assert decision.replies == [CONFIRMED]
    assert rows(decide("on my way 4821", answering(), PinCheck.VALID), "comment") == [
        ("SMSPINReply", "on my way ****")]
    assert rows(decide("on my way 4821", answering(), PinCheck.WRONG), "comment") == [  # masked all the same
        ("SMSReply", "on my way ****")]
    assert rows(decide("4821", answering(), PinCheck.VALID), "comment") == [("SMSPINReply", "****")]


def test_an_answer_to_an_answered_verification_is_told_who_answered_first():
    answered = verification(status="responded", response="confirmed", responded_by=2, responder_name="Jane Roe")
    decision = decide("NO", answering(answered))
    assert rows(decision, "verification_id", "comment", "details") == [
        ("SMSReply", "ver_1", "NO", {"already": "confirmed", "by": 2})]
    assert decision.replies == ["The alarm at Main Office was already confirmed by Jane Roe."]
    assert decision.responses == [] and decision.notifications == []


def test_after_the_timeout_a_reply_is_an_ordinary_text():
    # The store lists a verification as open until its timeout; after it the number has nothing open.
    decision = decide("YES", Sender(contacts=[contact()]))
    assert rows(decision, "site_id", "contact_id", "comment") == [("SMSIN", "site_main", 1, "YES")]
    assert decision.replies == ["Acme Monitoring got your text."] and decision.responses == []
    stranger = decide("YES", Sender(), phone=OTHER_PHONE)
    assert rows(stranger, "site_id", "contact_id", "phone") == [("SMSUNKNOWN", None, None, OTHER_PHONE)]
    assert stranger.replies == []


def test_a_reply_within_a_dispatch_window_is_smsreply():
    dispatch = Dispatch(id="dsp_1", site_id="site_main", template="police-dispatched", code="SMSDISP",
                        created_at=NOW, reply_until=NOW + timedelta(minutes=60), recipients=((1, PHONE),))
    decision = decide("which door?", Sender(contacts=[contact()], dispatches=[dispatch]))
    assert rows(decision, "site_id", "contact_id", "comment", "details") == [
        ("SMSReply", "site_main", 1, "which door?", {"dispatch_id": "dsp_1"})]
    assert decision.replies == []


def test_the_duress_pin_in_an_answer_alerts_the_station_and_answers_as_the_pin_does():
    real = decide("NO 4821", answering(), PinCheck.VALID)
    duress = decide("NO 9753", answering(), PinCheck.DURESS)
    assert duress.replies == real.replies
    assert duress.responses == real.responses
    assert rows(duress)[:len(real.log)] == rows(real) == [("SMSNO",), ("SMSPINReply",)]
    [alert] = duress.log[len(real.log):]
    assert (alert.code, alert.contact_id, alert.verification_id, alert.event_id, alert.details) == (
        "DURESS", 1, "ver_1", "evt_1", {"priority": "high"})


def test_a_command_word_reaches_the_interface_while_a_verification_is_open():
    decision = decide("SITES", answering())
    assert decision.replies == ["Send your PIN to run SITES."] and decision.responses == []
    assert decision.interface_state.pending_command == "SITES"


def test_a_muted_number_is_decided_but_not_answered():
    muted = InterfaceState(phone=PHONE, muted_until=NOW + timedelta(minutes=1))
    decision = decide("YES", answering(access=Access(state=muted)))
    assert rows(decision) == [("SMSYES",)] and decision.responses and decision.replies == []


def test_the_reply_beyond_the_budget_mutes_the_number_once():
    spent = InterfaceState(phone=PHONE, replies=Interface().reply_budget, replies_since=NOW - timedelta(minutes=1))
    decision = decide("YES", answering(access=Access(state=spent)))
    assert rows(decision, "comment") == [("SMSYES", "YES"),
                                         ("SMSMUTED", "More than 10 replies in 10 min: no replies for 60 min")]
    assert decision.replies == []
    assert decision.interface_state.muted_until == NOW + timedelta(minutes=60)


LATE = {"late": True, "carrier_received_at": "2026-01-15T15:31:00.000Z"}


def test_a_late_text_to_a_verification_still_open_counts_and_says_it_came_late():
    decision = decide("YES", answering(), sent_at=NOW + timedelta(minutes=1), now=NOW + timedelta(minutes=3))
    assert rows(decision, "verification_id", "details") == [
        ("SMSYES", "ver_1", {"keyword": "YES", "outcome": "confirm", **LATE})]
    assert [r.response for r in decision.responses] == ["confirmed"] and decision.replies == [CONFIRMED]


def test_a_late_answer_seen_after_its_verification_timed_out_is_smslate_neither_counted_nor_thanked():
    timed_out = verification(status="expired")
    sender = Sender(contacts=[contact()], open_when_sent=[(timed_out, 1)], access=Access(contact=contact()))
    decision = decide("no", sender, sent_at=NOW + timedelta(minutes=1), now=NOW + timedelta(minutes=8))
    assert rows(decision, "verification_id", "event_id", "contact_id", "comment", "details") == [
        ("SMSLATE", "ver_1", "evt_1", 1, "no", {"timeout_at": "2026-01-15T15:35:00.000Z", "status": "expired",
                                               "keyword": "NO", "outcome": "cancel", **LATE})]
    assert decision.responses == [] and decision.replies == [] and decision.notifications == []


def test_only_a_late_text_is_a_late_reply():
    sender = Sender(contacts=[contact()], open_when_sent=[(verification(status="expired"), 1)])
    assert rows(decide("no", sender, now=NOW + timedelta(minutes=8))) == [("SMSIN",)]
