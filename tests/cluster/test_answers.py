"""Answers that reach two daemons at once: the first decisive answer wins, a retried webhook counts once."""

from __future__ import annotations

import time
import urllib.parse

import pytest
from twilio.request_validator import RequestValidator

from tests.cluster.harness import Cluster, Subscriber, call, event_log, outbox, seed_site, text, wait_for
from tests.conftest import OTHER_PHONE, PHONE
from tests.daemon import Daemon
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, fake_twilio_in_a_thread

pytestmark = pytest.mark.postgres
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@pytest.fixture
def subscriber(tmp_path):
    sub = Subscriber(tmp_path)
    yield sub
    sub.close()


def test_yes_to_one_daemon_and_no_to_the_other_one_outcome(tmp_path, pg_url, subscriber):
    cluster = Cluster(tmp_path, pg_url, 2, webhooks=subscriber.settings)
    try:
        a, b = cluster
        site_id = seed_site(a, ("John", PHONE), ("Jane", OTHER_PHONE))
        cluster.start()
        status, accepted = call(a, "POST", "/ext/v1/events", {"site_id": site_id, "event_code": "BA"},
                                key=cluster.key())
        assert status == 201, accepted
        wait_for(lambda: outbox(a, PHONE) and outbox(a, OTHER_PHONE), "the verification texts sent")
        yes, no = cluster.go([lambda: text(a, "YES", PHONE), lambda: text(b, "NO", OTHER_PHONE)])
        codes = [r["code"] for r in event_log(a, cluster.key(), site_id)["data"]]
        assert (codes.count("SMSYES"), codes.count("SMSNO")) in {(1, 0), (0, 1)}, codes
        winner, loser = (yes, no) if "SMSYES" in codes else (no, yes)
        who = "John" if "SMSYES" in codes else "Jane"
        assert winner[0].startswith(f"Thank you {who}.")
        assert loser[0].startswith("The alarm at Main Office was already") and who in loser[0], loser
        wait_for(lambda: subscriber.events("verification.responded"), "the webhook delivered")
        time.sleep(1.0)  # both daemons' webhook loops pass again: a second delivery would arrive by now
        assert [e["response"] for e in subscriber.events("verification.responded")] == [
            "confirmed" if "SMSYES" in codes else "cancelled"]
        assert cluster.stop() == [0, 0]
    finally:
        cluster.close()


def signed_post(d: Daemon, fields: dict[str, str]) -> tuple[int, str]:
    """A Twilio inbound webhook to daemon ``d``, signed as Twilio signs it for that daemon's public URL."""
    url = d.url + "/carriers/twilio/inbound"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, fields)
    status, body = d.request("POST", "/carriers/twilio/inbound", urllib.parse.urlencode(fields).encode(),
                             {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
    return status, body.decode()


def test_one_message_sid_posted_to_both_daemons_is_one_event_and_one_reply(tmp_path, pg_url):
    with fake_twilio_in_a_thread() as (fake, _):
        cluster = Cluster(tmp_path, pg_url, 2, carrier={"backend": "twilio", "from_number": TWILIO_NUMBER, "twilio": {
            "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "api_base_url": fake.url, "max_per_second": 100}})
        try:
            a, b = cluster
            site_id = seed_site(a)
            cluster.start()
            assert call(a, "POST", "/ext/v1/events", {"site_id": site_id, "event_code": "BA"},
                        key=cluster.key())[0] == 201
            wait_for(lambda: fake.received, "the verification text handed to Twilio")
            fields = fake.inbound_fields(PHONE, "YES", "SM" + "7" * 32)
            answers = cluster.go([lambda: signed_post(a, fields), lambda: signed_post(b, fields)])
            assert sorted(status for status, _ in answers) == [200, 200]
            bodies = sorted(body for _, body in answers)
            assert bodies[0] == EMPTY and bodies[1].count("<Message>") == 1 and "Thank you John." in bodies[1]
            codes = [r["code"] for r in event_log(a, cluster.key(), site_id)["data"]]
            assert codes.count("SMSYES") == 1, codes
            assert cluster.stop() == [0, 0]
        finally:
            cluster.close()
