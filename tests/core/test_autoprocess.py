"""An alarm event decided without a store: the verifications it opens, the texts it queues, the rows it logs."""

from __future__ import annotations

import itertools
from datetime import timedelta

from gateway.core.autoprocess import decide_alarm
from gateway.model import PRIORITY_VERIFICATION, Decision
from tests.core.records import GATEWAY, NOW, OTHER_PHONE, PHONE, TABLE, alarm, contact, site

TEXT = "Acme Monitoring: ALARM at Main Office: Motion, hallway zone 3 at {time}. Reply YES or NO within 5 min."


def decide(event=None, where=None, contacts=None) -> Decision:
    ids = (f"ver_{n}" for n in itertools.count(1))
    return decide_alarm(event or alarm(), where or site(), [contact()] if contacts is None else contacts, TABLE,
                        now=NOW, from_phone=GATEWAY, new_id=lambda: next(ids))


def codes(decision: Decision) -> list[str]:
    return [entry.code for entry in decision.log]


def test_each_triggered_process_opens_a_verification_texted_to_every_auto_notify_contact_with_a_phone():
    contacts = [contact(), contact(id=2, first_name="Jane", phone=OTHER_PHONE),
                contact(id=3, first_name="Bob", phone="+15550123458", auto_notify=False),
                contact(id=4, first_name="Ann", phone=None)]
    decision = decide(contacts=contacts)
    assert decision.alarm == alarm()
    assert (decision.log[0].code, decision.log[0].comment, decision.log[0].details) == ("BA", "Motion, hallway",
                                                                                          {"zone": "3"})
    burglary, supervisor = decision.opened
    assert (burglary.id, burglary.process, burglary.timeout_at) == ("ver_1", "burglary", NOW + timedelta(minutes=5))
    assert (supervisor.id, supervisor.process, supervisor.timeout_at) == ("ver_2", "supervisor",
                                                                          NOW + timedelta(minutes=10))
    assert [(r.contact_id, r.phone) for r in burglary.recipients] == [(1, PHONE), (2, OTHER_PHONE)]
    assert [(m.verification_id, m.to_phone) for m in decision.outbound] == [
        ("ver_1", PHONE), ("ver_1", OTHER_PHONE), ("ver_2", PHONE), ("ver_2", OTHER_PHONE)]
    first = decision.outbound[0]
    assert first.body == TEXT.format(time="10:30 EST")  # in the site's zone
    assert (first.from_phone, first.kind, first.priority, first.expires_at) == (
        GATEWAY, "verification", PRIORITY_VERIFICATION, burglary.timeout_at)  # never sent after its timeout
    assert codes(decision) == ["BA", "SMSSENT", "SMSSENT", "SUPSENT", "SUPSENT"]
    sent = decision.log[1]
    assert (sent.contact_id, sent.phone, sent.verification_id, sent.comment) == (1, PHONE, "ver_1", first.body)


def test_times_are_in_the_contacts_zone_when_it_has_one():
    decision = decide(contacts=[contact(time_zone="America/Chicago"), contact(id=2, time_zone="Nowhere/Typo")])
    assert [m.body for m in decision.outbound[:2]] == [TEXT.format(time="09:30 CST"), TEXT.format(time="15:30 UTC")]


def test_a_site_on_test_logs_the_alarm_and_texts_no_one():
    decision = decide(where=site(on_test_until=NOW + timedelta(minutes=1)))
    assert codes(decision) == ["BA", "SMSONTEST"] and decision.opened == [] and decision.outbound == []
    assert decision.log[1].comment == "Main Office is on test until 15:31 UTC: no verification text sent."
    assert len(decide(where=site(on_test_until=NOW)).opened) == 2  # the test ended


def test_an_alarm_no_process_handles_is_logged_as_such():
    decision = decide(event=alarm(event_code="FA"))
    assert codes(decision) == ["FA", "SMSNOPROC"] and decision.outbound == []
    assert decision.log[1].comment == "No auto process handles event code FA."
    assert len(decide(event=alarm(event_code="bv")).opened) == 1  # triggers match in any case


def test_a_site_without_a_reachable_contact_logs_it_per_process():
    decision = decide(contacts=[contact(phone=None), contact(id=2, auto_notify=False)])
    assert codes(decision) == ["BA", "SMSNOREC", "SMSNOREC"] and decision.opened == []
    assert [e.details for e in decision.log[1:]] == [{"process": "burglary"}, {"process": "supervisor"}]


def test_an_email_box_adds_the_verification_by_email():
    decision = decide(contacts=[contact(email="john@example.com", email_notify=True)])
    burglary = [m for m in decision.outbound if m.verification_id == "ver_1"]
    assert [(m.channel, m.to_phone, m.to_address, m.subject) for m in burglary] == [
        ("sms", PHONE, None, None), ("email", "", "john@example.com", "ALARM at Main Office")]
    assert [r.channel for r in decision.opened[0].recipients] == ["sms", "email"]
