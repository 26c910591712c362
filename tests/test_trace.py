"""`gateway trace`: the story of a number, a verification or a site's last alarm, one test per diagnosis.

Everything is built through public paths (the HTTP API of a test app on the Twilio carrier, the fake
Twilio's inbound texts, send errors and delivery reports, the CLI), then traced through the CLI's
``main`` (the same parser and exit codes; a real subprocess where a terminal or ``--help`` matters).
The trace reads the wall clock, so the app's clock starts at the real time.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import pty
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from datetime import datetime, timedelta, timezone

import msgspec
import pytest
import yaml

from gateway.clock import ManualClock
from gateway.cli.main import main
from gateway.model import Contact
from gateway.web.appkeys import EXPIRY
from tests.conftest import PHONE, ROOT
from tests.fake_twilio import Answer, with_twilio
from tests.helpers import deliver, post_alarm

STRANGER = "+15550199999"
PIN = "739182"  # six digits: not in any time, date or id a trace prints by chance


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(timezone.utc).replace(microsecond=0))


@pytest.fixture
def config(config, fake_twilio):
    return with_twilio(config, fake_twilio, max_per_second=100)


@pytest.fixture
def cfg(config, tmp_path):
    """The app's config as a file, for the CLI."""
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(msgspec.to_builtins(config)))
    return path


async def gateway(cfg, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """``gateway ARGS -c CFG`` through the CLI's main, in a thread (it runs its own event loop)."""
    def run():
        out, err, saved = io.StringIO(), io.StringIO(), sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    code = main([*args, "-c", str(cfg)])
                except SystemExit as exc:  # argparse
                    code = exc.code
        finally:
            sys.stdin = saved
        return code, out.getvalue(), err.getvalue()

    return await asyncio.to_thread(run)


async def trace(cfg, *args: str) -> tuple[int, list[str], dict]:
    """The exit status, the printed lines and the JSON of ``gateway trace ARGS``."""
    code, out, err = await gateway(cfg, "trace", *args)
    json_code, json_out, json_err = await gateway(cfg, "trace", *args, "--json")
    assert err == json_err == "" and code == json_code
    return code, out.splitlines(), json.loads(json_out)


def at(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def step_line(moment: datetime, rest: str) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}  {rest}"


def inbound_url(config) -> str:
    return f"{config.http.public_url}/carriers/twilio/inbound"


async def alarm_delivered(client, auth, site, tw, clock, *reports: tuple[str, str | None]) -> dict:
    """An alarm whose text went out, and the carrier's reports on it, each a second later."""
    data = await post_alarm(client, auth, site.id, zone="3", text="Motion, hallway")
    await deliver(client)
    for status, error_code in reports:
        clock.advance(1)
        assert (await tw.report(tw.received[-1].sid, status, error_code))[0] == 204
    return data["verifications"][0]


# A number's story

async def test_a_number_nobody_has_and_nothing_was_stored_for_exits_1(cfg, client):
    code, lines, story = await trace(cfg, "555-019-9999")
    assert code == 1
    assert lines[0].startswith("+1 555-019-9999 (+15550199999)") and "contact:   none" in lines
    assert lines[-1] == "diagnosis: no contact has this number and no text to or from it is stored"
    assert story["kind"] == "number" and story["known"] is False and story["steps"] == []
    assert story["diagnosis"] == {"code": "unknown_number", "ok": False,
                                  "line": "no contact has this number and no text to or from it is stored"}


async def test_a_stranger_who_texted(cfg, config, tw, clock):
    await tw.text(inbound_url(config), STRANGER, "who is this")
    code, lines, story = await trace(cfg, STRANGER)
    assert code == 0
    assert step_line(clock.now(), "in   'who is this' -> SMSUNKNOWN") in lines
    assert lines[-1] == "diagnosis: no contact has this number: alarm texts go to contacts only"
    assert story["known"] is True and story["diagnosis"]["code"] == "no_contact"
    assert [(s["type"], s["body"], s["codes"]) for s in story["steps"]] == [
        ("text_in", "who is this", ["SMSUNKNOWN"])]


async def test_opted_out_by_stop(cfg, config, tw, auth, client, site, contact, clock):
    await tw.text(inbound_url(config), PHONE, "STOP", OptOutType="STOP")
    stopped = clock.now()
    clock.advance(60)
    await post_alarm(client, auth, site.id)
    await deliver(client)  # not handed to the carrier: the number opted out
    code, lines, story = await trace(cfg, PHONE)
    assert f"opt-out:   opted out {at(stopped)} (STOP)" in lines
    assert step_line(stopped, "in   'STOP' -> SMSIN") in lines
    assert any(line.startswith(step_line(stopped, "log  SMSOPTOUT  Opted out of texts (STOP)")) for line in lines)
    failed = lines.index(next(line for line in lines if "out  verification" in line))
    assert lines[failed + 1].strip().endswith(f"failed {clock.now():%H:%M:%S} (OPTED_OUT)")
    assert lines[failed + 2].strip().startswith("OPTED_OUT opted out: The number texted STOP")
    assert lines[-1] == f"diagnosis: opted out on {stopped:%Y-%m-%d} by STOP: the contact must text START"
    assert story["opt_out"] == {"opted_out": True, "source": "STOP", "changed_at": story["opt_out"]["changed_at"]}
    assert story["diagnosis"]["code"] == "opted_out"


async def test_a_text_kept_back_by_an_opt_out_that_ended(cfg, config, tw, auth, client, site, contact, clock):
    await tw.text(inbound_url(config), PHONE, "STOP", OptOutType="STOP")
    clock.advance(60)
    await post_alarm(client, auth, site.id)
    await deliver(client)
    kept_back = clock.now()
    clock.advance(60)
    await tw.text(inbound_url(config), PHONE, "START", OptOutType="START")
    code, lines, story = await trace(cfg, PHONE)
    assert f"opt-out:   opted in again {at(clock.now())} (START)" in lines
    assert lines[-1] == (f"diagnosis: last text not sent ({at(kept_back)} UTC): the number had opted out; it has "
                         "opted in again since, so the next text goes out")


async def test_a_text_cancelled_with_its_contact(cfg, tw, client, partner, store, site, contact, clock):
    twin = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Jo", last_name="Doe", phone=PHONE,
                                           auto_notify=True, created_at=clock.now()))
    contacts = f"/partner/v1/dealers/12345/sites/{site.id}/contacts"
    assert (await client.post(f"{contacts}/{twin.id}/welcome", headers=partner)).status == 202
    clock.advance(30)
    assert (await client.delete(f"{contacts}/{twin.id}", headers=partner)).status == 204
    code, lines, story = await trace(cfg, PHONE)
    [text] = [s for s in story["steps"] if s["type"] == "text_out"]
    assert [h["status"] for h in text["history"]] == ["queued", "cancelled"] and text["contact_id"] == twin.id
    assert lines[-1] == (f"diagnosis: last text cancelled at {at(clock.now())} UTC: its contact was deleted before "
                         "it went out")


async def test_a_send_the_carrier_refused(cfg, tw, auth, client, site, contact, clock):
    tw.errors_for[PHONE] = Answer(status=400, code=21211, message="The 'To' number is not a valid phone number.")
    await post_alarm(client, auth, site.id)
    await deliver(client)
    code, lines, story = await trace(cfg, PHONE)
    [text] = [s for s in story["steps"] if s["type"] == "text_out"]
    assert [(h["status"], h["by"], h["error_code"]) for h in text["history"]] == [
        ("queued", "gateway", None), ("failed", "gateway", "21211")]
    assert text["error"]["title"] == "invalid number" and text["error"]["advice"] == "Correct the contact's phone number."
    assert not any(" log  SMSFAIL" in line for line in lines)  # the row says what the text's history says
    assert lines[-1] == (f"diagnosis: last text failed at {at(clock.now())} UTC: carrier says invalid number (21211): "
                         "correct the contact's phone number")
    assert story["diagnosis"]["code"] == "send_failed"


async def test_undelivered_to_a_landline_explains_30006(cfg, tw, auth, client, site, contact, clock):
    sent = clock.now()
    await alarm_delivered(client, auth, site, tw, clock, ("sent", None), ("undelivered", "30006"))
    code, lines, story = await trace(cfg, PHONE)
    history = f"queued {sent:%H:%M:%S} -> sent {sent:%H:%M:%S} -> carrier sent {sent + timedelta(seconds=1):%H:%M:%S}" \
              f" -> carrier undelivered {clock.now():%H:%M:%S} (30006)"
    assert history in [line.strip() for line in lines]
    assert "30006 landline or unreachable carrier: The number is a landline, or its carrier cannot take texts. " \
           "Ask the contact for a mobile number." in [line.strip() for line in lines]
    assert not any(" log  SMSFAIL" in line for line in lines)
    assert lines[-1] == (f"diagnosis: last text undelivered at {at(clock.now())} UTC: carrier says landline or "
                         "unreachable carrier (30006): ask the contact for a mobile number")
    [text] = [s for s in story["steps"] if s["type"] == "text_out"]
    assert [h["status"] for h in text["history"]] == ["queued", "sent", "sent", "undelivered"]
    assert text["status"] == "undelivered" and text["error"]["code"] == "30006"


async def test_a_text_that_went_stale_in_the_outbox(cfg, tw, auth, client, site, contact, clock):
    await post_alarm(client, auth, site.id)
    clock.advance(301)  # past the verification's timeout before the sender ran
    await deliver(client)
    code, lines, story = await trace(cfg, PHONE)
    [text] = [s for s in story["steps"] if s["type"] == "text_out"]
    assert [h["status"] for h in text["history"]] == ["queued", "stale"] and tw.received == []
    assert lines[-1] == (f"diagnosis: last text went stale at {at(clock.now())} UTC: it waited in the outbox past its "
                         "validity and was not sent; check that the outbox drains")


async def test_the_lookup_says_landline(cfg, tw, client, contact, clock):
    tw.lines[PHONE] = "landline"
    code, out, err = await gateway(cfg, "contact", "validate", str(contact.id))
    assert code == 0, err
    code, lines, story = await trace(cfg, PHONE)
    assert any(line.startswith("lookup:    ") and "not a valid number" not in line and "landline" in line
               for line in lines)
    assert "number invalid (landline)" in next(line for line in lines if line.startswith("contact:"))
    assert lines[-1] == ("diagnosis: the carrier's lookup says a landline: texts cannot reach this number; use "
                         "another number")
    assert story["lookup"]["line_type"] == "landline" and story["contacts"][0]["phone_status"] == "invalid"


async def test_locked_out_after_five_wrong_pins(cfg, config, tw, client, contact, clock):
    code, _, err = await gateway(cfg, "contact", "set-pin", str(contact.id), stdin=PIN + "\n")
    assert code == 0, err
    for _ in range(5):
        await tw.text(inbound_url(config), PHONE, "STATUS 111111")
        clock.advance(1)
    locked_at = clock.now() - timedelta(seconds=1)
    until = locked_at + timedelta(minutes=config.interface.lockout_minutes)
    code, lines, story = await trace(cfg, PHONE)
    assert [line for line in lines if " log  " in line] == [
        *(step_line(locked_at - timedelta(seconds=4 - n), f"log  SMSBADPIN  Wrong PIN ({n + 1})") for n in range(5)),
        step_line(locked_at, f"log  SMSLOCKOUT  Locked for {config.interface.lockout_minutes} min after 5 wrong PINs")]
    assert f"interface: locked until {at(until)} (5 wrong PINs)" in lines
    assert lines[-1] == f"diagnosis: locked out of the SMS interface until {at(until)} UTC after 5 wrong PINs"
    assert story["interface"]["pin_failures"] == 5 and story["diagnosis"]["code"] == "locked_out"
    assert story["contacts"][0]["has_pin"] is True


async def test_a_text_still_queued(cfg, tw, auth, client, site, contact, clock):
    await post_alarm(client, auth, site.id)  # the sender has not run
    code, lines, story = await trace(cfg, PHONE)
    assert lines[-1] == (f"diagnosis: last text queued at {at(clock.now())} UTC and not sent yet: check that the daemon "
                         "runs and the outbox drains")
    assert [s["status"] for s in story["steps"] if s["type"] == "text_out"] == ["queued"]


async def test_no_auto_notify(cfg, tw, auth, client, store, site, clock):
    quiet = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Quinn", last_name="Quiet",
                                            phone=PHONE, created_at=clock.now()))
    resp = await client.post("/ext/v1/dispatches", headers=auth, json={
        "site_id": site.id, "contacts": [quiet.id], "template": "police-dispatched", "variables": {"reference": "R-1"}})
    assert resp.status == 201, await resp.text()
    await deliver(client)
    await tw.report(tw.received[-1].sid, "delivered")
    code, lines, story = await trace(cfg, PHONE)
    assert "no auto-notify" in next(line for line in lines if line.startswith("contact:"))
    assert lines[-1] == "diagnosis: no contact with this number has auto-notify on: alarm texts do not go to it"


async def test_the_welcome_link_never_confirmed(cfg, tw, client, partner, site, contact, clock):
    resp = await client.post(f"/partner/v1/dealers/12345/sites/{site.id}/contacts/{contact.id}/welcome",
                             headers=partner)
    assert resp.status == 202, await resp.text()
    await deliver(client)
    await tw.report(tw.received[-1].sid, "delivered")
    code, lines, story = await trace(cfg, PHONE)
    [text] = [s for s in story["steps"] if s["type"] == "text_out"]
    assert text["kind"] == "welcome" and "{link}" in text["body"]  # the link's token is never stored
    assert lines[-1] == f"diagnosis: the welcome link was never confirmed (sent {at(clock.now())} UTC)"
    assert story["contacts"][0]["welcome"] == "pending"


async def test_delivered_check_the_handset(cfg, tw, auth, client, site, contact, clock):
    await alarm_delivered(client, auth, site, tw, clock, ("delivered", None))
    code, lines, story = await trace(cfg, PHONE)
    assert lines[-1] == (f"diagnosis: last text delivered at {at(clock.now())} UTC: the carrier delivered it; check "
                         "the handset")
    assert story["diagnosis"] == {"code": "delivered", "ok": True, "line": lines[-1].removeprefix("diagnosis: ")}


async def test_an_answer_proves_the_text_got_through(cfg, config, tw, auth, client, site, contact, clock):
    await alarm_delivered(client, auth, site, tw, clock)
    clock.advance(30)
    await tw.text(inbound_url(config), PHONE, "YES")
    code, lines, story = await trace(cfg, PHONE)
    i = lines.index(step_line(clock.now(), "in   'YES' -> SMSYES"))
    assert lines[i + 1].strip() == "reply: Thank you John. Alarm at Main Office CONFIRMED. Police are being requested."
    assert any(line.endswith("(burglary-verification): confirmed by John Doe") for line in lines)
    assert lines[-1] == (f"diagnosis: the number texted back at {at(clock.now())} UTC, after the last text went out: "
                         "it got through")


async def test_sent_without_a_delivery_report(cfg, tw, auth, client, site, contact, clock):
    await alarm_delivered(client, auth, site, tw, clock)
    code, lines, story = await trace(cfg, PHONE)
    assert lines[-1] == f"diagnosis: last text handed to the carrier at {at(clock.now())} UTC; no delivery report yet"


async def test_a_contact_nothing_was_sent_to(cfg, client, contact):
    code, lines, story = await trace(cfg, "(555) 012-3456")
    assert code == 0 and story["phone"] == PHONE
    assert lines[-1] == "diagnosis: no text has been sent to this number yet"
    assert story["contacts"][0]["name"] == "John Doe" and story["contacts"][0]["site_name"] == "Main Office"


async def test_a_group_contact_and_its_group(cfg, client, clock):
    _, out, _ = await gateway(cfg, "group", "add", "--dealer", "12345", "--name", "Acme Retail")
    group_id = out.split("\t")[0]
    code, _, err = await gateway(cfg, "contact", "add", "--group", group_id, "--first-name", "Gina",
                                 "--last-name", "Lee", "--phone", "+1 555 000 1111")
    assert code == 0, err
    code, lines, story = await trace(cfg, "+15550001111")
    assert lines[1] == f"contact:   1 Gina Lee, group {group_id} Acme Retail; no auto-notify; number unknown; welcome none"
    assert (story["contacts"][0]["group_id"], story["contacts"][0]["site_id"]) == (group_id, None)


async def test_only_the_newest_texts_are_told(cfg, config, tw, clock):
    from gateway.services.trace.number import TEXTS

    for n in range(TEXTS):
        await tw.text(inbound_url(config), STRANGER, f"text {n}")
    code, lines, story = await trace(cfg, STRANGER)
    assert story["older_left_out"] is False and len(story["steps"]) == TEXTS
    await tw.text(inbound_url(config), STRANGER, f"text {TEXTS}")
    code, lines, story = await trace(cfg, STRANGER)
    bodies = [s["body"] for s in story["steps"] if s["type"] == "text_in"]
    assert len(bodies) == TEXTS and bodies[0] == "text 1" and bodies[-1] == f"text {TEXTS}"
    assert story["older_left_out"] is True and "(older texts and rows left out)" in lines


# A verification's story, a site's last alarm

@pytest.mark.parametrize("answer, response", [("YES", "confirmed"), ("NO", "cancelled")])
async def test_a_verification_answered(cfg, config, tw, auth, client, site, contact, clock, answer, response):
    v = await alarm_delivered(client, auth, site, tw, clock, ("delivered", None))
    clock.advance(20)
    await tw.text(inbound_url(config), PHONE, answer)
    code, lines, story = await trace(cfg, "--verification", v["verification_id"])
    assert lines[0].startswith(f"verification {v['verification_id']} of site site_main Main Office, process "
                               "burglary-verification, sms")
    assert f"recipient: {contact.id} John Doe (sms {PHONE}): delivered, answered {response} {at(clock.now())}" in lines
    assert step_line(clock.now(), f"log  SMS{answer}  John Doe: {answer}") in lines
    assert lines[-1] == f"diagnosis: {response} by John Doe at {at(clock.now())} UTC"
    assert story["kind"] == "verification" and story["diagnosis"]["code"] == response
    assert story["alarm"]["event_code"] == "BA" and story["alarm"]["zone"] == "3"
    assert story["recipients"][0]["status"] == "delivered"


async def test_every_text_of_a_verification_failed(cfg, tw, auth, client, site, contact, clock):
    tw.errors_for[PHONE] = Answer(status=400, code=21211, message="The 'To' number is not a valid phone number.")
    v = (await post_alarm(client, auth, site.id))["verifications"][0]
    await deliver(client)
    code, lines, story = await trace(cfg, "--verification", v["verification_id"])
    assert f"recipient: {contact.id} John Doe (sms {PHONE}): failed: 21211 invalid number" in lines
    assert lines[-1] == ("diagnosis: every text failed: John Doe: carrier says invalid number (21211): correct the "
                         "contact's phone number")
    assert story["recipients"][0]["error"]["code"] == "21211"


async def test_a_recipient_that_could_not_be_texted_at_all(cfg, tw, auth, client, store, site, contact, clock):
    jane = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Jane", last_name="Roe",
                                           created_at=clock.now()))
    resp = await client.post("/ext/v1/verifications", headers=auth, json={
        "site_id": site.id, "contacts": [contact.id, jane.id], "method": "sms"})
    assert resp.status == 200, await resp.text()
    v = (await resp.json())["data"]
    await deliver(client)
    code, lines, story = await trace(cfg, "--verification", v["verification_id"])
    assert f"recipient: {jane.id} Jane Roe (sms -): failed: no phone number" in lines
    # No text was queued for her, so the row saying so is the story's only word on it.
    assert any(line.endswith("log  SMSFAIL  Jane Roe: sms to Jane Roe: no phone number") for line in lines)
    assert lines[-1].startswith("diagnosis: waiting for an answer until ") and lines[-1].endswith(
        "UTC (2 recipients: 1 sent, 1 failed)")


async def test_a_verification_nobody_answered(cfg, client, tw, auth, site, contact, clock):
    v = await alarm_delivered(client, auth, site, tw, clock, ("delivered", None))
    clock.advance(301)
    await client.app[EXPIRY].run_once()
    code, lines, story = await trace(cfg, "--verification", v["verification_id"])
    timeout = datetime.fromisoformat(v["timeout_at"].replace("Z", "+00:00"))
    assert any(line.endswith("log  SMSTIMEOUT  No response before " + f"{timeout:%H:%M:%S} UTC.") for line in lines)
    assert lines[-1] == f"diagnosis: expired at {at(timeout)} UTC with no answer (1 recipient: 1 delivered)"


async def test_the_sites_last_alarm_still_waiting(cfg, tw, auth, client, site, contact, clock):
    await post_alarm(client, auth, site.id, code="XX")  # an older alarm is not the story
    clock.advance(5)
    v = await alarm_delivered(client, auth, site, tw, clock)
    code, lines, story = await trace(cfg, "--site", site.id)
    timeout = datetime.fromisoformat(v["timeout_at"].replace("Z", "+00:00"))
    assert lines[0].startswith("site site_main Main Office: last alarm")
    assert lines[1].startswith("alarm:     ") and " BA zone 3: Motion, hallway, received " in lines[1]
    assert sum(" log  BA  Motion, hallway" in line for line in lines) == 1 and "XX" not in "".join(lines)
    assert lines[-1] == f"diagnosis: waiting for an answer until {at(timeout)} UTC (1 recipient: 1 sent)"
    assert story["kind"] == "site" and [v2["verification"]["id"] for v2 in story["verifications"]] == [
        v["verification_id"]]


async def test_a_notice_has_nothing_to_answer(cfg, tw, auth, client, site, contact):
    resp = await client.post("/ext/v1/verifications", headers=auth, json={
        "site_id": site.id, "contacts": [contact.id], "method": "sms", "require_response": False,
        "message": "Test of the notification system. No response required."})
    assert resp.status == 200, await resp.text()
    await deliver(client)
    code, lines, story = await trace(cfg, "--site", site.id)  # a verification with no alarm event
    assert lines[-1] == "diagnosis: a notice, nothing to answer (1 recipient: 1 sent)"
    assert story["alarm"] is None and story["verifications"][0]["verification"]["timeout_at"] is None


async def test_an_alarm_while_the_site_was_on_test(cfg, config, tw, auth, client, site, contact, clock):
    await gateway(cfg, "contact", "set-pin", str(contact.id), stdin=PIN + "\n")
    await gateway(cfg, "contact", "set-permission", str(contact.id), "--on-test")
    await tw.text(inbound_url(config), PHONE, PIN)
    status, twiml = await tw.text(inbound_url(config), PHONE, "TEST 1 60")
    assert "ON TEST" in twiml
    await post_alarm(client, auth, site.id)
    code, lines, story = await trace(cfg, "--site", site.id)
    assert any(" log  SMSONTEST  Main Office is on test until " in line for line in lines)
    assert lines[-1] == "diagnosis: the site was on test: no verification text was sent"


async def test_an_alarm_no_process_handles(cfg, auth, client, site, contact):
    await post_alarm(client, auth, site.id, code="XX")
    code, lines, story = await trace(cfg, "--site", site.id)
    assert lines[-1] == ("diagnosis: no auto process handles event code XX: add it to a process's triggers in "
                         "keywords.yaml")
    assert [s["code"] for s in story["steps"]] == ["XX", "SMSNOPROC"] and story["verifications"] == []


async def test_an_alarm_with_nobody_to_text(cfg, auth, client, site):
    await post_alarm(client, auth, site.id)
    code, lines, story = await trace(cfg, "--site", site.id)
    assert lines[-1] == "diagnosis: the site has no auto-notify contact with a phone: nobody was texted"


async def test_a_site_without_alarms(cfg, client, site):
    code, lines, story = await trace(cfg, "--site", site.id)
    assert code == 0 and lines[-1] == "diagnosis: no alarm is stored for this site"


# Input, privacy, colour

@pytest.mark.parametrize("args, message", [
    (["12"], "error: NUMBER: '12' is not a possible phone number for region US."),
    ([], "error: trace: give a NUMBER, --site ID or --verification ID"),
    (["--site", "site_nope"], "error: --site: no site 'site_nope' (see `gateway site list`)"),
    (["--verification", "ver_nope"], "error: --verification: no verification 'ver_nope'"),
])
async def test_bad_input_is_one_line_and_exit_2(cfg, client, args, message):
    code, out, err = await gateway(cfg, "trace", *args)
    assert (code, out, err) == (2, "", message + "\n")


async def test_no_pin_digits_in_a_trace_after_a_pin_conversation(cfg, config, tw, auth, client, site, contact, clock):
    await gateway(cfg, "contact", "set-pin", str(contact.id), stdin=PIN + "\n")
    v = await alarm_delivered(client, auth, site, tw, clock, ("delivered", None))
    arabic = PIN.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    fullwidth = PIN.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for body in (f"STATUS {PIN}", "SITES", f"NO {arabic}", f"call me at {PIN[:3]}-{PIN[3:]}", fullwidth, "LOGOUT",
                 f"STATUS {PIN[::-1]}", PIN):
        clock.advance(1)
        await tw.text(inbound_url(config), PHONE, body)
    outputs = [await gateway(cfg, "trace", *args) for args in (
        [PHONE], [PHONE, "--json"], ["--site", site.id], ["--verification", v["verification_id"], "--json"])]
    assert all(code == 0 for code, _, _ in outputs)
    assert "SMSLOGIN" in outputs[0][1] and "****" in outputs[0][1]  # the conversation is there, masked
    for _, out, err in outputs:
        for digits in (PIN, arabic, fullwidth, PIN[:3] + "-" + PIN[3:]):
            assert digits not in out + err


async def test_escape_sequences_a_phone_sent_do_not_reach_the_terminal(cfg, config, tw, clock):
    await tw.text(inbound_url(config), STRANGER, "hi \x1b]0;owned\x07 \x1b[2J\u202eevil \x9b31m")
    code, out, err = await gateway(cfg, "trace", STRANGER)
    json_code, json_out, _ = await gateway(cfg, "trace", STRANGER, "--json")
    for printed in (out, json_out):
        assert not any(c in printed for c in "\x1b\x07\x9b\u202e")
    assert r"'hi \x1b]0;owned\x07 \x1b[2J\u202eevil \x9b31m' -> SMSUNKNOWN" in out
    assert json.loads(json_out)["steps"][0]["body"] == "hi \x1b]0;owned\x07 \x1b[2J\u202eevil \x9b31m"


def run_on_a_terminal(cfg, *args: str, env: dict) -> bytes:
    """``gateway ARGS`` with its stdout on a pseudo-terminal: what a person at a terminal sees."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "gateway", *args, "-c", str(cfg)], stdout=follower,
                                stderr=subprocess.PIPE, cwd=ROOT, env=env)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
        proc.stderr.close()
    finally:
        os.close(leader)
    return b"".join(chunks)


async def test_colour_only_on_a_terminal_and_never_with_no_color(cfg, tw, auth, client, site, contact, clock):
    tw.errors_for[PHONE] = Answer(status=400, code=21211, message="not a number")
    await post_alarm(client, auth, site.id)
    await deliver(client)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm"}
    coloured = await asyncio.to_thread(run_on_a_terminal, cfg, "trace", PHONE, env=env)
    assert b"\x1b[31;1mlast text failed at" in coloured
    plain = await asyncio.to_thread(run_on_a_terminal, cfg, "trace", PHONE, env=env | {"NO_COLOR": "1"})
    assert b"\x1b[" not in plain and b"diagnosis: last text failed at" in plain
    _, piped, _ = await gateway(cfg, "trace", PHONE)
    assert "\x1b[" not in piped


def test_gateway_help_lists_trace():
    result = subprocess.run([sys.executable, "-m", "gateway", "--help"], capture_output=True, text=True, timeout=60,
                            cwd=ROOT)
    assert result.returncode == 0 and "trace       why didn't my contact get the text?" in result.stdout
