"""Verifications and Dispatch SMS asked for through the API, planned without a store: who gets what, and how."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.core.verification_plan import (
    Request, choose_contacts, contact_number, plan_dispatch, plan_verification, render_dispatch,
)
from gateway.errors import Refused, http_status
from tests.core.records import BURGLARY, GATEWAY, NOW, OTHER_PHONE, PHONE, POLICE, TABLE, contact, site

JOHN = contact()
ANN = contact(id=2, first_name="Ann", phone=None)
OLIVE = contact(id=3, first_name="Olive", phone=OTHER_PHONE)  # opted out
EVE = contact(id=4, first_name="Eve", phone="+15550123458", email="eve@example.com", email_notify=True)


def request(*contacts, **fields) -> Request:
    values = dict(site=site(), contacts=contacts, method="sms", message=None, subject=None, timeout_seconds=180,
                  require_response=True, event_id="evt_1", alarm=None)
    return Request(**{**values, **fields})


def plan(req: Request):
    return plan_verification(req, BURGLARY, TABLE, now=NOW, from_phone=GATEWAY, opted_out={OTHER_PHONE})


def problem(call) -> tuple[int, str, dict]:
    with pytest.raises(Refused) as caught:
        call()
    return http_status(caught.value), caught.value.code, caught.value.details


@pytest.mark.parametrize("ref, number", [(12, 12), ("12", 12), ("contact_12", 12), (" contact_12 ", 12), (True, None),
                                         (0, None), (-1, None), ("c12", None), ("contact_", None), ("12a", None)])
def test_a_contact_is_named_by_its_number_or_contact_id(ref, number):
    assert contact_number(ref) == number


def test_choosing_contacts_names_every_id_that_is_not_the_sites():
    assert choose_contacts(["all"], [JOHN, ANN]) == [JOHN, ANN]
    assert choose_contacts([1, "contact_2", "1"], [JOHN, ANN]) == [JOHN, ANN]
    assert problem(lambda: choose_contacts([1, 99, "x"], [JOHN, ANN])) == (
        400, "INVALID_CONTACT", {"invalid_contacts": [99, "x"]})


def test_every_reachable_recipient_gets_it_and_every_other_is_logged_as_failed():
    decision = plan(request(JOHN, ANN, OLIVE, EVE))
    [verification] = decision.opened
    assert verification.timeout_at == NOW + timedelta(seconds=180) and verification.event_id == "evt_1"
    assert [(r.contact_id, r.channel, r.status, r.error) for r in verification.recipients] == [
        (1, "sms", "pending", None), (2, "sms", "failed", "no phone number"), (3, "sms", "failed", "opted out (STOP)"),
        (4, "sms", "pending", None), (4, "email", "pending", None)]
    assert [(m.contact_id, m.channel, m.subject) for m in decision.outbound] == [
        (1, "sms", None), (4, "sms", None), (4, "email", "Alarm verification: Main Office")]
    assert all(m.expires_at == verification.timeout_at and m.verification_id == verification.id
               for m in decision.outbound)
    assert [(e.code, e.contact_id) for e in decision.log] == [
        ("SMSSENT", 1), ("SMSFAIL", 2), ("SMSFAIL", 3), ("SMSSENT", 4), ("SMSSENT", 4)]
    assert decision.log[1].comment == "sms to Ann Doe: no phone number"
    assert decision.outbound[0].body.startswith("Acme Monitoring: ALARM at Main Office")  # the process's template


def test_a_notice_carries_its_own_message_and_never_expires():
    decision = plan(request(JOHN, message="Water leak reported.", require_response=False))
    assert [(m.body, m.expires_at) for m in decision.outbound] == [("Water leak reported.", None)]
    assert decision.opened[0].require_response is False


def test_no_reachable_recipient_is_delivery_failed_naming_the_first():
    assert problem(lambda: plan(request(ANN, OLIVE))) == (422, "DELIVERY_FAILED",
                                                          {"reason": "no phone number", "contact_id": 2})
    assert problem(lambda: plan(request(JOHN, method="email"))) == (422, "DELIVERY_FAILED",
                                                                    {"reason": "no email address", "contact_id": 1})


def test_a_dispatch_template_needs_its_variables_and_no_others():
    assert render_dispatch(POLICE, None, {"reference": "R1"}) == POLICE.text
    assert render_dispatch(None, "free text", {}) == "free text"
    status, code, details = problem(lambda: render_dispatch(POLICE, None, {"ref": "R1"}))
    assert (status, code, details) == (422, "VALIDATION_ERROR",
                                       {"field": "variables", "missing": ["reference"], "unknown": ["ref"]})


def test_a_dispatch_texts_the_reachable_contacts_and_opens_its_reply_window():
    decision = plan_dispatch(site(), [JOHN, OLIVE], POLICE, POLICE.text, {"reference": "R1"}, TABLE, now=NOW,
                             from_phone=GATEWAY, opted_out={OTHER_PHONE})
    [dispatch] = decision.dispatches
    assert (dispatch.code, dispatch.reply_until, dispatch.recipients) == (
        "SMSDISP", NOW + timedelta(minutes=60), ((1, PHONE),))
    assert [(m.to_phone, m.body, m.kind) for m in decision.outbound] == [
        (PHONE, "Police sent to Main Office. Ref R1.", "dispatch")]
    assert [(e.code, e.contact_id) for e in decision.log] == [("SMSDISP", 1), ("SMSFAIL", 3)]
    assert decision.log[0].details["dispatch_id"] == dispatch.id


def test_a_dispatch_to_no_one_reachable_or_with_a_broken_text_is_refused():
    assert problem(lambda: plan_dispatch(site(), [OLIVE], None, "hi", {}, TABLE, now=NOW, from_phone=GATEWAY,
                                         opted_out={OTHER_PHONE}))[:2] == (422, "DELIVERY_FAILED")
    assert problem(lambda: plan_dispatch(site(), [JOHN], None, "hi {", {}, TABLE, now=NOW, from_phone=GATEWAY,
                                         opted_out=set())) == (422, "VALIDATION_ERROR", {"field": "text"})
