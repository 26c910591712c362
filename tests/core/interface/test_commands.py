"""The command table run directly for a logged-in contact: naming a site, TEST and UNTEST, EVENTS, the unknown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from msgspec.structs import replace

from gateway.config import Interface
from gateway.core.interface.commands import UNKNOWN_COMMAND, Commands, help_text
from gateway.model import SiteTest
from gateway.model import LogRow
from tests.core.records import GINA, GINAS_SITES, NOW, PHONE, contact

SAM = contact(id=8, first_name="Sam", pin_hash="$argon2id$...")  # one site, no On Test permission
BASE = {"at": NOW, "phone": PHONE, "trace_id": None}


def run(text: str, who=GINA, sites=GINAS_SITES, events=None):
    verb, *args = text.split()
    return Commands(who, sites, Interface(), NOW, events or {}, BASE).run(verb, args)


@pytest.mark.parametrize("name, answer", [
    ("3", "Depot: not on test."), ("site_b", "Main Warehouse: not on test."), ("main w", "Main Warehouse: not on test."),
    ("Main", "Which site? 1 Main Office; 2 Main Warehouse"), ("Nowhere", "No site 'Nowhere'. Text SITES for the list."),
    ("4", "No site '4'. Text SITES for the list."), ("7391826", "No site '****'. Text SITES for the list."),
])
def test_a_site_is_named_by_number_id_or_an_unambiguous_start(name, answer):
    assert run(f"STATUS {name}").reply == answer


def test_one_site_may_be_left_out_several_may_not():
    assert run("STATUS", who=SAM, sites=GINAS_SITES[2:]).reply == "Depot: not on test."
    assert run("STATUS").reply == "Which site? Text SITES for the list."


def test_test_puts_a_site_on_test_within_the_bounds():
    outcome = run("TEST 3 90")
    assert outcome.reply == "Depot is ON TEST until 11:00 CST."
    assert outcome.site_tests == [SiteTest(site_id="site_c", until=NOW + timedelta(minutes=90))]
    assert [(e.code, e.site_id, e.comment) for e in outcome.log] == [
        ("SMSCMDTEST", "site_c", "TEST 90 min"), ("ONTEST", "site_c", "On test for 90 min by SMS")]
    assert run("TEST 3 0").reply == run("TEST 3 481").reply == "Minutes must be 1 to 480."
    assert run("TEST Depot").reply == "Send TEST site minutes, e.g. TEST 1 60 (at most 480)."


def test_on_test_commands_need_the_permission():
    outcome = run("TEST 1 30", who=SAM, sites=GINAS_SITES[2:])
    assert outcome.reply == "You do not have permission to put sites on test." and outcome.site_tests == []
    assert [(e.code, e.comment) for e in outcome.log] == [("SMSCMDTEST", "refused: no permission")]
    assert "TEST" not in help_text(SAM, []) and help_text(SAM, ["TEST"]) == UNKNOWN_COMMAND


def test_untest_ends_a_test_early():
    on_test = [replace(GINAS_SITES[0], on_test_until=NOW + timedelta(minutes=5)), *GINAS_SITES[1:]]
    outcome = run("UNTEST 1", sites=on_test)
    assert outcome.reply == "Main Office is off test."
    assert outcome.site_tests == [SiteTest(site_id="site_a", until=None)]
    assert run("SITES", sites=on_test).reply == "1 Main Office (ON TEST)\n2 Main Warehouse\n3 Depot"
    assert run("UNTEST 1").reply == "Main Office is not on test." and not run("UNTEST 1").site_tests


def test_events_shows_times_in_the_contacts_zone_and_at_most_max_events():
    rows = [LogRow(id=n, at=NOW - timedelta(minutes=n), code=f"C{n}", site_id="site_c", contact_id=None, phone=None,
                   verification_id=None, event_id=None, comment=None, details=None, trace_id=None)
            for n in range(30)]
    outcome = run("EVENTS 3 2", events={"site_c": rows})
    assert outcome.reply == "Depot:\n09:30 CST C0\n09:29 CST C1"
    assert outcome.log[0].comment == "EVENTS 2"
    assert run("EVENTS 3 99", events={"site_c": rows}).reply.count("\n") == Interface().max_events
    assert run("EVENTS 3").reply == "Depot:\nno events"


def test_an_unknown_command_gets_the_standard_answer_and_never_its_digits():
    outcome = run("OPEN1234 door")
    assert outcome.reply == UNKNOWN_COMMAND
    assert [(e.code, e.comment) for e in outcome.log] == [("SMSCMDUNK", "OPEN****")]
