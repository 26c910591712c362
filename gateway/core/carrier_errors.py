"""Carrier error codes in words: what each means for the contact's phone and what the station can do.

The codes are Twilio's (twilio.com/docs/api/errors), plus the gateway's own for a text it never
handed to a carrier. The console and ``gateway trace`` show these instead of bare numbers.
"""

from __future__ import annotations

from typing import NamedTuple


class CarrierErrorInfo(NamedTuple):
    code: str
    title: str  # a few words: "unreachable"
    meaning: str  # one sentence on what happened
    advice: str  # what the station can do about it


OPTED_OUT = "OPTED_OUT"  # the gateway's own: the number texted STOP, nothing was handed to the carrier

_TABLE = [
    CarrierErrorInfo("20003", "carrier login refused", "The carrier refused the gateway's credentials.",
                     "Check carrier.twilio.account_sid and the auth token."),
    CarrierErrorInfo("20429", "too many requests", "The carrier asked the gateway to slow down.",
                     "Lower carrier.twilio.max_per_second or ask the carrier for a higher rate."),
    CarrierErrorInfo("21211", "invalid number", "The number is not a valid phone number.",
                     "Correct the contact's phone number."),
    CarrierErrorInfo("21408", "region not enabled", "The account may not text numbers in this country.",
                     "Enable the country in the carrier's geographic permissions."),
    CarrierErrorInfo("21610", "opted out", "The number texted STOP: the carrier refuses every text to it.",
                     "The contact must text START to the station's number."),
    CarrierErrorInfo("21612", "cannot be reached by SMS", "The carrier cannot route texts to this number.",
                     "Use a mobile number, or ask the carrier why the route is closed."),
    CarrierErrorInfo("21614", "not a mobile number", "The number is a landline or cannot take texts.",
                     "Ask the contact for a mobile number."),
    CarrierErrorInfo("21617", "text too long", "The text is longer than 1600 characters.",
                     "Shorten the template in keywords.yaml."),
    CarrierErrorInfo("30001", "carrier queue full", "The carrier had too many texts queued from this sender.",
                     "Lower the sending pace; the outbox sends again later."),
    CarrierErrorInfo("30002", "account suspended", "The carrier account is suspended.",
                     "Contact the carrier about the account."),
    CarrierErrorInfo("30003", "unreachable", "The phone is switched off, out of coverage or cannot take texts now.",
                     "Ask the contact to check the phone is on and has signal; a later text may go through."),
    CarrierErrorInfo("30004", "blocked", "The text was blocked: the contact's phone or carrier blocks this sender.",
                     "Ask the contact to unblock the station's number with their carrier."),
    CarrierErrorInfo("30005", "unknown number", "The number does not exist or is no longer in service.",
                     "Ask the contact for their current number."),
    CarrierErrorInfo("30006", "landline or unreachable carrier", "The number is a landline, or its carrier "
                     "cannot take texts.", "Ask the contact for a mobile number."),
    CarrierErrorInfo("30007", "filtered", "The contact's carrier filtered the text as unwanted.",
                     "Check the sender's registration (A2P 10DLC, toll-free verification) and the text's wording."),
    CarrierErrorInfo("30008", "unknown error", "The contact's carrier gave no reason.",
                     "Try again later; if it persists, ask the carrier's support."),
    CarrierErrorInfo("30034", "sender not registered", "The sending number is not registered for A2P 10DLC.",
                     "Register the number's campaign with the carrier."),
    CarrierErrorInfo(OPTED_OUT, "opted out", "The number texted STOP, so the gateway did not send the text.",
                     "The contact must text START to the station's number."),
]
CARRIER_ERRORS = {info.code: info for info in _TABLE}


def explain(code: str | None) -> CarrierErrorInfo:
    """The words for a carrier error code; an unknown or missing code still gets a sentence."""
    if code and code in CARRIER_ERRORS:
        return CARRIER_ERRORS[code]
    if code:
        return CarrierErrorInfo(code, f"error {code}", f"The carrier refused or failed the text with code {code}.",
                                f"Look the code up at twilio.com/docs/api/errors/{code}.")
    return CarrierErrorInfo("", "no error code", "The carrier failed the text without an error code.",
                            "Try again later; if it persists, ask the carrier's support.")


def in_words(code: str | None) -> str:
    """One line: ``30003 unreachable: The phone is switched off, ...``."""
    info = explain(code)
    return f"{info.code} {info.title}: {info.meaning}" if info.code else f"{info.title}: {info.meaning}"
