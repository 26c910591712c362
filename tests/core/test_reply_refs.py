"""Reply references decided without a store: which number an alarm's text carries, when it shows, and which
open verification a reply answers."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

from msgspec.structs import replace as struct_replace

from gateway.config import Interface, Verifications
from gateway.core.autoprocess import decide_alarm
from gateway.core.interface import Access
from gateway.core.keywords import Keyword, KeywordTable
from gateway.core.pin import PinCheck, masked, split_pin
from gateway.core.pipeline import Sender, Text, decide_inbound
from gateway.core.reply_refs import HOLD_AFTER_TIMEOUT, HeldRef, choose_ref, others_open, split_ref, with_ref
from gateway.core.reply_target import aim
from gateway.model import InboundMessage
from tests.core.records import BURGLARY, GATEWAY, NOW, PHONE, TABLE, alarm, contact, site, verification

WAREHOUSE = site(id="site_wh", name="Warehouse")


def held(ref: int, key: str, *, vid: str | None = None, status: str = "sent", minutes_ago: int = 0,
         timeout_minutes: int = 5) -> HeldRef:
    created = NOW - timedelta(minutes=minutes_ago)
    return HeldRef(ref=ref, alarm_key=key, verification_id=vid or f"ver_{ref}", status=status, created_at=created,
                   timeout_at=created + timedelta(minutes=timeout_minutes), site_name="Main Office")


# Which number, and whether the text shows it

def test_an_alarm_keeps_its_own_reference_and_a_new_one_takes_the_smallest_free():
    refs = [held(1, "evt_1"), held(3, "evt_3")]
    assert choose_ref(refs, "evt_3", NOW) == 3
    assert choose_ref(refs, "evt_9", NOW) == 2
    assert choose_ref([], "evt_9", NOW) == 1
    stale = held(1, "evt_1", minutes_ago=5 + 60)  # timed out an hour ago: its number is free again
    assert choose_ref([stale], "evt_9", NOW) == 1
    just = held(1, "evt_1", minutes_ago=5 + 59)  # still held: a late "YES 1" must not land on a new alarm
    assert choose_ref([just], "evt_9", NOW) == 2 and HOLD_AFTER_TIMEOUT == timedelta(hours=1)


def test_only_another_alarm_still_waiting_for_an_answer_counts_as_open():
    assert others_open([held(1, "evt_1")], "evt_2", NOW)
    assert not others_open([held(1, "evt_1")], "evt_1", NOW)  # its own
    assert not others_open([held(1, "evt_1", minutes_ago=6)], "evt_2", NOW)  # timed out
    assert not others_open([held(1, "evt_1", status="expired")], "evt_2", NOW)
    assert not others_open([held(1, "evt_1", status="responded")], "evt_2", NOW)  # answered


def test_a_text_carries_its_reference_by_the_templates_placeholder_or_a_sentence_added():
    assert with_ref("Reply YES or NO.", "Reply YES or NO.", BURGLARY, None) == "Reply YES or NO."
    assert with_ref("Reply YES or NO.", "Reply YES or NO.", BURGLARY, 2) == (
        "Reply YES or NO. Another alarm is open: reply YES 2 or NO 2 for this one.")
    assert with_ref("Reply YES 2 or NO 2.", "Reply YES{ref} or NO{ref}.", BURGLARY, 2) == "Reply YES 2 or NO 2."
    no_words = replace_process_keywords(())
    assert with_ref("Call us.", "Call us.", no_words, 4) == "Call us. Another alarm is open: its reference is 4 for this one."


def replace_process_keywords(keywords: tuple[Keyword, ...]):
    return replace(BURGLARY, keywords=keywords)


def alarm_decision(refs, **fields):
    ids = (f"ver_{n}" for n in itertools.count(10))
    return decide_alarm(fields.pop("event", alarm(id="evt_2")), fields.pop("where", site()),
                        fields.pop("contacts", [contact()]), fields.pop("table", TABLE), now=NOW, from_phone=GATEWAY,
                        new_id=lambda: next(ids), held={PHONE: refs})


def test_an_alarm_while_another_is_open_shows_its_reference_and_both_processes_share_it():
    decision = alarm_decision([held(1, "evt_1")])
    assert [(r.phone, r.ref, r.alarm_key, r.verification_id) for r in decision.reply_refs] == [
        (PHONE, 2, "evt_2", "ver_10"), (PHONE, 2, "evt_2", "ver_11")]
    assert decision.reply_refs[0].held_until == NOW + timedelta(minutes=5) + HOLD_AFTER_TIMEOUT
    burglary, supervisor = decision.outbound
    assert burglary.body.endswith("within 5 min. Another alarm is open: reply YES 2 or NO 2 for this one.")
    assert supervisor.body == "Supervisor: alarm at Main Office. Another alarm is open: reply YES 2 or NO 2 for this one."
    sent = [e for e in decision.log if e.code == "SMSSENT"]
    assert sent[0].comment == burglary.body  # the row says what was sent


def test_alone_the_text_is_the_templates_and_an_email_never_carries_a_reference():
    alone = alarm_decision([held(1, "evt_1", status="responded")])
    assert alone.outbound[0].body.endswith("within 5 min.") and alone.reply_refs[0].ref == 2
    emailed = alarm_decision([held(1, "evt_1")], contacts=[contact(email="john@example.com", email_notify=True)])
    email = next(m for m in emailed.outbound if m.channel == "email")
    assert "Another alarm" not in email.body  # its response links answer it, not a word


# Which verification a reply answers

def sender_with(*opened, refs=()) -> Sender:
    return Sender(contacts=[contact()], open=[(v, 1) for v in opened], refs=list(refs),
                  access=Access(contact=contact(pin_hash="$argon2id$..."), sites=[site()]),
                  sites={"site_main": site(), "site_wh": WAREHOUSE},
                  alarms={"evt_1": alarm(), "evt_2": alarm(id="evt_2", site_id="site_wh", zone="1", text="Door")})


def decide(body: str, sender: Sender, check: PinCheck = PinCheck.ABSENT, table: KeywordTable = TABLE):
    words, pin = split_pin(body)
    msg = InboundMessage(carrier="loopback", carrier_message_id="SM1", from_phone=PHONE, to_phone=GATEWAY,
                         body=masked(body, pin), received_at=NOW)
    return decide_inbound(msg, sender, Text(words=words, stored=msg.body, pin=check), table, Interface(),
                          Verifications())


OLDER = verification(created_at=NOW - timedelta(minutes=2))
NEWER = verification(id="ver_2", event_id="evt_2", site_id="site_wh", created_at=NOW - timedelta(minutes=1))
BOTH = [held(1, "evt_1", minutes_ago=2), held(2, "evt_2", minutes_ago=1)]


def test_a_reference_is_a_keyword_and_a_number_of_at_most_three_digits():
    match = BURGLARY.match
    assert split_ref("YES 2", match) == ("YES", 2)
    assert split_ref("yes #2!", match) == ("YES", 2) and split_ref("Y2", match) == ("Y", 2)
    assert split_ref("no 12", match) == ("NO", 12)
    assert split_ref("YES 1234", match) is None  # four digits: could be a PIN
    assert split_ref("EVENTS 2", match) is None and split_ref("YES", match) is None


def test_a_bare_keyword_answers_the_newest_and_names_it():
    decision = decide("YES", sender_with(NEWER, OLDER, refs=BOTH))
    assert [r.verification_id for r in decision.responses] == ["ver_2"]
    assert decision.replies == ["Thank you John. Alarm at Warehouse CONFIRMED. (alarm 2: Warehouse, BA zone 1, Door)"]
    assert decision.log[0].details == {"keyword": "YES", "outcome": "confirm", "ref": 2, "chosen_by": "newest"}


def test_a_reference_answers_its_alarm_and_nothing_else():
    decision = decide("no 1", sender_with(NEWER, OLDER, refs=BOTH))
    assert [(r.verification_id, r.response) for r in decision.responses] == [("ver_1", "cancelled")]
    assert [(e.code, e.verification_id, e.comment) for e in decision.log] == [("SMSNO", "ver_1", "no 1")]
    assert decision.replies == [
        "Thank you John. Alarm at Main Office CANCELLED. (alarm 1: Main Office, BA zone 3, Motion, hallway)"]


def test_the_station_words_the_reply_with_its_placeholders():
    yes = Keyword(word="YES", aliases=(), code="SMSYES", outcome="confirm",
                  reply="OK{ref}: {site_name} confirmed{answered}.")
    table = KeywordTable(processes=(replace_process_keywords((yes,)),), dispatch_templates={},
                         unknown_sender=TABLE.unknown_sender, known_sender=TABLE.known_sender, central_station="",
                         source="<tests>")
    assert decide("YES 1", sender_with(NEWER, OLDER, refs=BOTH), table=table).replies == [
        "OK 1: Main Office confirmed (alarm 1: Main Office, BA zone 3, Motion, hallway)."]
    assert decide("YES", sender_with(OLDER, refs=BOTH[:1]), table=table).replies == ["OK: Main Office confirmed."]


def test_a_reference_nobody_holds_is_asked_back_and_changes_nothing():
    decision = decide("YES 5", sender_with(NEWER, OLDER, refs=BOTH))
    assert decision.responses == [] and decision.notifications == []
    assert [(e.code, e.verification_id, e.details["reason"]) for e in decision.log] == [
        ("SMSWHICH", None, "unknown_ref")]
    assert decision.replies == ["No open alarm has the reference 5. Nothing was changed. Still open: reply YES 1 or "
                                "NO 1 for Main Office, BA zone 3, Motion, hallway; YES 2 or NO 2 for Warehouse, "
                                "BA zone 1, Door."]


def test_a_bare_answer_after_the_newest_timed_out_is_asked_back():
    gone = held(2, "evt_2", minutes_ago=1, status="expired")  # texted after alarm 1, timed out since; still held
    target = aim([(OLDER, 1)], [BOTH[0], gone], "NO", TABLE, NOW)
    assert (target.problem, target.closed) == ("newest_closed", gone)
    decision = decide("NO", sender_with(OLDER, refs=[BOTH[0], gone]))
    assert decision.responses == [] and decision.log[0].details["closed_verification_id"] == "ver_2"
    # An older alarm that timed out is not the newest: the bare answer goes to the open one, as it always has.
    old_gone = held(1, "evt_1", minutes_ago=9)
    assert aim([(NEWER, 1)], [old_gone, BOTH[1]], "NO", TABLE, NOW).problem is None
    # Neither does a non-decisive word: HELP is answered.
    assert decide("HELP", sender_with(OLDER, refs=[BOTH[0], gone])).log[0].code == "SMSHELP"


def test_without_references_the_newest_is_answered_as_before():
    target = aim([(NEWER, 1), (OLDER, 1)], [], "YES 1", TABLE, NOW)
    assert (target.problem, target.ref, target.words) == (None, None, "YES 1")
    decision = decide("YES", sender_with(NEWER, OLDER))
    assert decision.log[0].details == {"keyword": "YES", "outcome": "confirm"}
    assert decision.replies == ["Thank you John. Alarm at Warehouse CONFIRMED."]


def test_a_pin_after_the_reference_authenticates_the_answer():
    decision = decide("YES 1 4821", sender_with(NEWER, OLDER, refs=BOTH), PinCheck.VALID)
    assert [(e.code, e.verification_id, e.comment) for e in decision.log] == [
        ("SMSYES", "ver_1", "YES 1 ****"), ("SMSPINReply", "ver_1", "YES 1 ****")]
    duress = decide("NO 1 4821", sender_with(NEWER, OLDER, refs=BOTH), PinCheck.DURESS)
    assert [(e.code, e.verification_id) for e in duress.log][-1] == ("DURESS", "ver_1")  # the alarm it answered
    assert duress.notifications[0].data["duress"] is True


# A text recovered late from the carrier (the gateway missed it)

def decide_late(body: str, sender: Sender, sent_at, now):
    words, pin = split_pin(body)
    msg = InboundMessage(carrier="loopback", carrier_message_id="SM1", from_phone=PHONE, to_phone=GATEWAY,
                         body=masked(body, pin), received_at=now, carrier_received_at=sent_at)
    return decide_inbound(msg, sender, Text(words=words, stored=msg.body, pin=PinCheck.ABSENT), TABLE, Interface(),
                          Verifications())


def test_a_late_text_naming_an_alarm_that_timed_out_before_it_was_seen_is_a_late_reply():
    timed_out = struct_replace(NEWER, status="expired", timeout_at=NOW)  # alarm 2 timed out while the gateway was away
    refs = [BOTH[0], held(2, "evt_2", minutes_ago=1, status="expired")]
    sender = struct_replace(sender_with(OLDER, refs=refs), open_when_sent=[(timed_out, 1), (OLDER, 1)])
    for body in ("NO 2", "NO"):  # by its reference, or bare while it was the newest
        decision = decide_late(body, sender, sent_at=NOW - timedelta(seconds=30), now=NOW + timedelta(seconds=30))
        assert [(e.code, e.verification_id, e.details["keyword"]) for e in decision.log] == [
            ("SMSLATE", "ver_2", "NO")], body
        assert decision.responses == [] and decision.replies == []  # neither counted nor thanked


def test_a_late_text_knows_only_the_alarms_texted_before_it():
    later = held(2, "evt_2", status="expired")  # texted after the contact sent "NO", and timed out since
    sender = struct_replace(sender_with(OLDER, refs=[BOTH[0], later]), open_when_sent=[(OLDER, 1)])
    decision = decide_late("NO", sender, sent_at=NOW - timedelta(minutes=1), now=NOW + timedelta(minutes=1))
    assert [(r.verification_id, r.response) for r in decision.responses] == [("ver_1", "cancelled")]


def test_a_reference_answers_the_alarms_verification_still_waiting_before_one_already_answered():
    answered = struct_replace(OLDER, id="ver_9", status="responded", response="confirmed", created_at=NOW)
    decision = decide("NO 1", sender_with(answered, NEWER, OLDER, refs=BOTH))  # ver_9: a newer one of alarm 1
    assert [(r.verification_id, r.response) for r in decision.responses] == [("ver_1", "cancelled")]
