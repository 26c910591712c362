"""The daemon's most important paths, run by a real ``gateway serve`` on each engine: an alarm's
verification text and the YES that answers it, a PIN login, API keys, the event-log cursor."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import PHONE
from tests.daemon import Daemon, call

ANSWER_PIN = "48213579"


@pytest.fixture
def d(tmp_path, db_url):
    # A password in the URL must never be printed or logged (trust auth lets the tests' server ignore it).
    url = db_url.replace("postgresql://postgres@", "postgresql://postgres:pw-s3cret@")
    daemon = Daemon(tmp_path, database={"url": url})
    yield daemon
    daemon.close()




def text(d: Daemon, body: str, phone: str = PHONE) -> list[str]:
    status, answer = call(d, "POST", "/carriers/loopback/inbound", {"from": phone, "body": body})
    assert status == 200, answer
    return answer["replies"]


def sent_to(d: Daemon, phone: str, count: int, seconds: float = 20.0) -> list[dict]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        messages = call(d, "GET", f"/carriers/loopback/outbox?to={phone}")[1]["messages"]
        if len(messages) >= count:
            return messages
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} texts to {phone} within {seconds}s")


def seed(d: Daemon) -> str:
    site_id = d.cli("site", "add", "--dealer", "12345", "--name", "Main Office").stdout.split("\t")[0]
    d.cli("contact", "add", "--site", site_id, "--first-name", "John", "--last-name", "Doe", "--phone", PHONE,
          "--auto-notify")
    return site_id


def test_alarm_verification_text_yes_and_the_event_log(d):
    site_id = seed(d)
    d.start()
    status, accepted = call(d, "POST", "/ext/v1/events", {"site_id": site_id, "event_code": "BA", "zone": "3",
                                                          "text": "Motion, hallway"}, key=d.operator_key())
    assert status == 201 and len(accepted["data"]["verifications"]) == 1
    [verification_text] = sent_to(d, PHONE, 1)
    assert verification_text["body"].startswith("Acme Monitoring: ALARM at Main Office: Motion, hallway zone 3")
    assert text(d, "YES") == ["Thank you John. Alarm at Main Office CONFIRMED. Police are being requested."]
    status, page = call(d, "GET", f"/ext/v1/event-log?site_id={site_id}&limit=2", key=d.operator_key())
    assert status == 200 and [r["code"] for r in page["data"]] == ["BA", "SMSSENT"]
    status, rest = call(d, "GET", f"/ext/v1/event-log?site_id={site_id}&after={page['next_after']}",
                        key=d.operator_key())
    assert "SMSYES" in [r["code"] for r in rest["data"]]
    assert {r["id"] for r in rest["data"]}.isdisjoint(r["id"] for r in page["data"])
    assert d.stop() == 0
    assert "pw-s3cret" not in d.log.read_text()


def test_pin_login_and_a_command(d):
    site_id = seed(d)
    d.cli("contact", "set-pin", "1", input=f"{ANSWER_PIN}\n")
    d.start()
    assert text(d, "STATUS") == ["Send your PIN to run STATUS."]
    [status] = text(d, ANSWER_PIN)
    assert "Main Office" in status
    status, page = call(d, "GET", f"/ext/v1/event-log?site_id={site_id}", key=d.operator_key())
    assert ANSWER_PIN not in json.dumps(page)
    assert d.stop() == 0


def test_api_keys_made_by_the_cli_open_the_api(d):
    site_id = seed(d)
    key = d.cli("api-key", "add", "--name", "automation").stdout.strip()
    key_id = key.split("_")[1]
    d.start()
    assert call(d, "GET", f"/ext/v1/event-log?site_id={site_id}", key=key)[0] == 200
    assert call(d, "GET", f"/ext/v1/event-log?site_id={site_id}", key=key[:-2] + "xx")[0] == 401
    listed = d.cli("api-key", "list").stdout
    assert listed.startswith(f"{key_id}\tautomation\tcreated 20") and listed.rstrip().endswith("active")
    assert "pw-s3cret" not in d.cli("migrate").stdout
    assert d.stop() == 0
