"""The diagnosis rules decided directly: which one wins when several apply (the README's order)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gateway.core.diagnosis import (
    LastText, NumberFacts, RecipientFacts, VerificationFacts, diagnose_alarm, diagnose_number, diagnose_verification,
)

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)
BEFORE = NOW - timedelta(minutes=10)
CONTACT = dict(now=NOW, contacts=1, auto_notify=True, stored=True)


def code(**facts) -> str:
    return diagnose_number(NumberFacts(**{**CONTACT, **facts})).code


def test_an_opt_out_outranks_the_failure_it_caused_and_a_failure_outranks_a_lockout():
    failed = LastText("failed", BEFORE, "OPTED_OUT")
    assert code(opted_out_at=BEFORE, opted_out_by="STOP", last_text=failed) == "opted_out"
    assert code(last_text=LastText("undelivered", BEFORE, "30003"), locked_until=NOW + timedelta(minutes=5)) \
        == "send_failed"


def test_a_text_kept_back_by_an_opt_out_that_ended_since():
    found = diagnose_number(NumberFacts(**CONTACT, last_text=LastText("failed", BEFORE, "OPTED_OUT")))
    assert (found.code, found.line) == ("opted_in_again", "last text not sent (2026-11-20 15:20 UTC): the number had "
                                        "opted out; it has opted in again since, so the next text goes out")


def test_the_carrier_refusing_a_text_for_an_opt_out_names_its_code():
    line = diagnose_number(NumberFacts(**CONTACT, opted_out_at=BEFORE, opted_out_by="21610")).line
    assert line == "opted out on 2026-11-20 (the carrier refused a text with 21610): the contact must text START"


def test_a_lookup_that_says_landline_yields_to_a_delivered_text():
    assert code(line_type="landline", lookup_valid=True) == "invalid_number"
    assert code(lookup_valid=False, last_text=LastText("sent", BEFORE)) == "invalid_number"
    assert code(line_type="landline", last_text=LastText("delivered", BEFORE)) == "delivered"


def test_a_lockout_that_ended_is_no_diagnosis():
    assert code(locked_until=NOW - timedelta(seconds=1), pin_failures=5) == "nothing_sent"
    line = diagnose_number(NumberFacts(**CONTACT, locked_until=NOW + timedelta(minutes=20), pin_failures=5)).line
    assert line == "locked out of the SMS interface until 2026-11-20 15:50 UTC after 5 wrong PINs"


def test_an_answer_after_the_last_text_proves_it_got_through_but_not_one_before_it():
    sent = LastText("sent", BEFORE, carrier="loopback")
    assert code(last_text=sent, answered_at=NOW) == "answered"
    line = diagnose_number(NumberFacts(**CONTACT, last_text=sent, answered_at=BEFORE - timedelta(seconds=1))).line
    assert line == "last text handed to the carrier at 2026-11-20 15:20 UTC; no delivery report (the loopback " \
                   "carrier sends none)"


def test_a_text_cancelled_with_its_contact():
    found = diagnose_number(NumberFacts(**CONTACT, last_text=LastText("cancelled", BEFORE)))
    assert (found.code, found.line) == ("cancelled", "last text cancelled at 2026-11-20 15:20 UTC: its contact was "
                                        "deleted before it went out")


def test_a_failure_without_a_code_still_says_something():
    line = diagnose_number(NumberFacts(**CONTACT, last_text=LastText("failed", BEFORE))).line
    assert line == ("last text failed at 2026-11-20 15:20 UTC: the carrier gave no error code: try again later; if "
                    "it persists, ask the carrier's support")


def test_verifications():
    base = dict(now=NOW, status="sent", timeout_at=NOW + timedelta(minutes=3))
    john, jane = RecipientFacts("John Doe", "delivered"), RecipientFacts("Jane Roe", "failed", "30005")
    waiting = diagnose_verification(VerificationFacts(**base, recipients=[john, jane]))
    assert (waiting.code, waiting.line) == (
        "waiting", "waiting for an answer until 2026-11-20 15:33 UTC (2 recipients: 1 delivered, 1 failed)")
    failed = diagnose_verification(VerificationFacts(**{**base, "status": "failed"}, recipients=[jane]))
    assert failed.line == ("every text failed: Jane Roe: carrier says unknown number (30005): ask the contact for "
                           "their current number")
    timed_out = diagnose_verification(VerificationFacts(**{**base, "timeout_at": NOW}, recipients=[john]))
    assert timed_out.code == "expired"  # past its timeout, though the expiry loop has not marked it yet
    answered = diagnose_verification(VerificationFacts(**{**base, "status": "responded"}, response="cancelled",
                                                       responder="John Doe", responded_at=BEFORE))
    assert (answered.code, answered.line, answered.ok) == ("cancelled", "cancelled by John Doe at 2026-11-20 15:20 UTC",
                                                           True)


def test_an_alarm_that_opened_nothing_and_left_no_reason():
    # Its rows are gone (or beyond what a story reads): say what is known, not a reason it cannot show.
    assert diagnose_alarm("BA", ["BA"]).code == "no_verification"
    assert diagnose_alarm("BA", ["BA", "SMSNOREC", "SMSNOREC"]).code == "no_recipient"
