"""What a phone may see of the event log: which codes never, and of a row only an alarm's own zone and text."""

from __future__ import annotations

from gateway.config import Interface, InterfaceCodes
from gateway.core.interface.shown import event_line, hidden_codes
from gateway.model import LogRow
from tests.core.records import NOW


def row(**fields) -> LogRow:
    values = dict(id=1, at=NOW, code="BA", site_id="site_main", contact_id=None, phone=None, verification_id=None,
                  event_id="evt_1", comment="Motion, hallway, by the back door near the loading bay", details={"zone": "3"},
                  trace_id=None)
    return LogRow(**{**values, **fields})


def test_the_authentication_codes_and_the_configured_ones_are_hidden():
    config = Interface(codes=InterfaceCodes(duress="PANIC"), hidden_codes=["KEYDURESS"])
    assert hidden_codes(config) == ["KEYDURESS", "PANIC", "SMSBADPIN", "SMSLOCKOUT", "SMSPINEXP"]


def test_an_alarms_own_row_shows_its_zone_and_the_start_of_its_text():
    assert event_line(row(), "10:30 EST") == "10:30 EST BA zone 3 Motion, hallway, by the back door near t"


def test_a_row_naming_a_person_shows_its_time_and_code_only():
    for named in ({"contact_id": 1}, {"phone": "+15550123456"}, {"verification_id": "ver_1"}, {"event_id": None}):
        assert event_line(row(code="SMSReply", comment="we are at the gate, code 12", **named), "10:31 EST") == \
            "10:31 EST SMSReply"
