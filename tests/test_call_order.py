"""A contact's place in the call list and its quiet hours: the command line and the partner Contacts API."""

from __future__ import annotations

import pytest

from gateway.config.call_list_file import channel_problems
from tests import storage
from tests.daemon import Daemon
from tests.test_partner_api import BASE, SEED_CONTACT


@pytest.fixture
def d(tmp_path):
    daemon = Daemon(tmp_path)
    yield daemon
    daemon.close()


def test_contact_add_takes_a_call_order_and_the_list_shows_it_in_that_order(d):
    site_id = d.cli("site", "add", "--dealer", "1", "--name", "S").stdout.split("\t")[0]
    for first, order in (("Carol", "3"), ("Alice", "1")):
        d.cli("contact", "add", "--site", site_id, "--first-name", first, "--last-name", "Key", "--call-order", order,
              "--quiet-hours", "22:00-7:00")
    d.cli("contact", "add", "--site", site_id, "--first-name", "Zed", "--last-name", "Nobody")
    listed = [line.split("\t") for line in d.cli("contact", "list", "--site", site_id).stdout.splitlines()]
    assert [(row[1], row[5:]) for row in listed] == [
        ("Alice Key", ["call 1", "quiet 22:00-07:00"]), ("Carol Key", ["call 3", "quiet 22:00-07:00"]),
        ("Zed Nobody", [])]


@pytest.mark.parametrize("args, message", [
    (["--quiet-hours", "late"], '--quiet-hours: quiet hours are "HH:MM-HH:MM"'),
    (["--quiet-hours", "07:00-07:00"], "start and end may not be the same time"),
    (["--call-order", "-1"], "--call-order must be 0 to 9999"),
])
def test_contact_add_refuses_a_bad_call_order_or_quiet_hours(d, args, message):
    site_id = d.cli("site", "add", "--dealer", "1", "--name", "S").stdout.split("\t")[0]
    result = d.cli("contact", "add", "--site", site_id, "--first-name", "A", "--last-name", "B", *args, check=False)
    assert result.returncode != 0 and message in result.stderr
    assert d.cli("contact", "list", "--site", site_id).stdout == ""


async def test_partner_contacts_carry_call_order_and_quiet_hours_as_optional_fields(client, partner, site):
    resp = await client.post(f"{BASE}/{site.id}/contacts", headers=partner, json={
        **SEED_CONTACT, "call_order": 2, "quiet_hours": "23:30-6:15", "time_zone": "Europe/Berlin"})
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert (body["call_order"], body["quiet_hours"], body["time_zone"]) == (2, "23:30-06:15", "Europe/Berlin")
    url = f"{BASE}/{site.id}/contacts/{body['contact_id']}"
    resp = await client.put(url, headers=partner, json={"call_order": 1})
    assert (await resp.json())["call_order"] == 1 and (await resp.json())["quiet_hours"] == "23:30-06:15"
    resp = await client.put(url, headers=partner, json={"call_order": None, "quiet_hours": None})
    assert "call_order" not in await resp.json() and "quiet_hours" not in await resp.json()  # the seed's shape again
    for bad, field in (({"quiet_hours": "25:00-01:00"}, "quiet_hours"), ({"call_order": -1}, "call_order")):
        resp = await client.put(url, headers=partner, json=bad)
        assert resp.status == 422 and field in (await resp.json())["error"]["message"], await resp.text()


CHECKED = """
auto_processes:
  - name: call-list
    triggers: [BA]
    template: "ALARM at {site_name}"
    timeout_seconds: 300
    codes: {sent: SMSSENT, response: SMSReply, pin_response: SMSPINReply, expired: SMSTIMEOUT}
    escalation:
      mode: in_order
      steps:
        - methods: [sms]
        - methods: [sms, call]
        - methods: [push]
        - methods: [email]
"""


def test_check_catches_a_call_step_without_a_voice_carrier_and_a_push_step_without_vapid(tmp_path):
    keywords = tmp_path / "keywords.yaml"
    keywords.write_text(CHECKED, encoding="utf-8")
    d = Daemon(tmp_path, keywords=keywords)
    try:
        result = d.cli("check", check=False)
        assert result.returncode == 1, result.stdout
        # the loopback carrier places calls: the call step is fine, the push step has no VAPID key
        assert result.stdout.splitlines()[:1] == [
            f"{keywords}:13: auto_processes[0].escalation.steps[2].methods[0]: a push step, but no push backend with "
            "a VAPID key is configured (push.backend)"]
        assert "a call step" not in result.stdout
        assert f"warning: {keywords}:14: auto_processes[0].escalation.steps[3].methods[0]: an email step, but " \
               "email.backend is none: its emails will fail" in result.stderr
        keywords.write_text(CHECKED.replace("[sms, call]", "[]").replace("[push]", "[sms, sms]"), encoding="utf-8")
        result = d.cli("check", check=False)
        assert result.returncode == 1
        assert result.stdout.splitlines()[:2] == [
            f"{keywords}:12: auto_processes[0].escalation.steps[1].methods: a step names no methods: name one or "
            "more of sms, email, call, push",
            f"{keywords}:13: auto_processes[0].escalation.steps[2].methods: a method is named twice"]
    finally:
        d.close()


def test_a_call_step_is_refused_for_a_carrier_that_cannot_place_calls(tmp_path):
    """Both shipped carriers place calls; a backend that cannot (``Carrier.places_calls`` false) is caught."""
    keywords = tmp_path / "keywords.yaml"
    keywords.write_text(CHECKED, encoding="utf-8")
    problems, _ = channel_problems(keywords, places_calls=False, push_ready=True, email_ready=True)
    assert problems == [f"{keywords}:12: auto_processes[0].escalation.steps[1].methods[1]: a call step, but "
                        "carrier.backend cannot place calls"]


DAEMON_KEYWORDS = """
auto_processes:
  - name: call-list
    triggers: [BA]
    template: "ALARM at {site_name} for {first_name}"
    timeout_seconds: 600
    escalation: {mode: in_order, step_seconds: 10, steps: [{methods: [sms]}]}
    codes: {sent: SMSSENT, response: SMSReply, pin_response: SMSPINReply, expired: SMSTIMEOUT}
"""


def test_a_killed_daemon_s_successor_reaches_the_next_step(tmp_path):
    """SIGKILL after step 1 (nothing drained, nothing said): the next `gateway serve` on the same store reaches
    step 2 when its ten seconds are up, once."""
    import json
    import time

    from tests.daemon import wait_for

    keywords = tmp_path / "keywords.yaml"
    keywords.write_text(DAEMON_KEYWORDS, encoding="utf-8")
    d = Daemon(tmp_path, keywords=keywords)
    try:
        site_id = d.cli("site", "add", "--dealer", "1", "--name", "Depot").stdout.split("\t")[0]
        for first, phone, order in (("Bob", "+15550100002", "2"), ("Alice", "+15550100001", "1")):
            d.cli("contact", "add", "--site", site_id, "--first-name", first, "--last-name", "Key", "--phone", phone,
                  "--auto-notify", "--call-order", order)
        d.start()
        auth = {"Authorization": f"Bearer {d.operator_key()}", "Content-Type": "application/json"}
        status, _ = d.request("POST", "/ext/v1/events", json.dumps({"site_id": site_id, "event_code": "BA"}).encode(),
                              auth)
        assert status in (200, 201)

        def sent() -> list[str]:
            return [m["body"] for m in json.loads(d.request("GET", "/carriers/loopback/outbox")[1])["messages"]]

        wait_for(lambda: sent() == ["ALARM at Depot for Alice"], "step 1 to Alice")
        # Killed only once the send is recorded: killed between the carrier's answer and that record, the next
        # daemon would rightly send Alice's text again (at least once), which is not what this test is about.
        wait_for(lambda: [r["status"] for r in storage.rows(d.db_url, "outbound_messages")] == ["sent"],
                 "step 1 recorded as sent")
        started = time.monotonic()
        d.kill()
        d.start()
        wait_for(lambda: len(sent()) == 2, "step 2 after the restart", seconds=30)
        assert sent() == ["ALARM at Depot for Alice", "ALARM at Depot for Bob"]
        assert time.monotonic() - started >= 5  # not at once on start: when its step was due
        assert d.stop() == 0
    finally:
        d.close()
