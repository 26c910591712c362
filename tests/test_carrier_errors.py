"""The carrier error table: every code the console and ``gateway trace`` explain has words."""

from __future__ import annotations

from gateway.core.carrier_errors import CARRIER_ERRORS, OPTED_OUT, explain, in_words
from gateway.loops import sender


def test_the_codes_support_is_asked_about_are_explained():
    titles = {code: explain(code).title for code in
              ("21610", "30003", "30005", "30006", "30007", "21211", "21614", "30008")}
    assert titles == {"21610": "opted out", "30003": "unreachable", "30005": "unknown number",
                      "30006": "landline or unreachable carrier", "30007": "filtered", "21211": "invalid number",
                      "21614": "not a mobile number", "30008": "unknown error"}
    assert all(info.meaning.endswith(".") and info.advice.endswith(".") for info in CARRIER_ERRORS.values())


def test_a_code_not_in_the_table_and_no_code_still_read_as_a_sentence():
    assert in_words("30999") == "30999 error 30999: The carrier refused or failed the text with code 30999."
    assert "twilio.com/docs/api/errors/30999" in explain("30999").advice
    assert in_words(None) == "no error code: The carrier failed the text without an error code."
    assert in_words("30003") == ("30003 unreachable: The phone is switched off, out of coverage or cannot take "
                                 "texts now.")


def test_the_outbox_records_the_tables_code_for_an_opted_out_number():
    assert sender.OPTED_OUT == OPTED_OUT
    assert explain(OPTED_OUT).advice == "The contact must text START to the station's number."
