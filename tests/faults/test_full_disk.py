"""Fault 3: the file system under the SQLite store fills up, then space comes back.

Meanwhile a Twilio webhook is answered 503 (so nothing is acknowledged that was not recorded, and no 500),
/readyz is 503, and the log says so once; afterwards the same daemon, not restarted, takes writes again and
what was committed before is all there, in a database that passes ``PRAGMA integrity_check``.

The test mounts a small tmpfs (root only); it skips without one, except under CI=true, where it must run.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.daemon import Daemon
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, Answer, fake_twilio_in_a_thread
from tests.faults.harness import call, event_log, phone, seed_site, wait_until

DISK_BYTES = 8 << 20
FULL_LINE = "cannot be written"  # the one ERROR line while the store's disk is full


@pytest.fixture
def small_disk(tmp_path) -> Path:
    """A tmpfs of DISK_BYTES mounted for this test alone, unmounted after it."""
    mount = tmp_path / "disk"
    mount.mkdir()
    why = None
    if os.geteuid() != 0:
        why = "not root: cannot mount a tmpfs to fill"
    else:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0700", "tmpfs", str(mount)],
                              capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            why = f"mount -t tmpfs failed: {done.stderr.strip() or done.returncode}"
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"under CI (root) the full-disk test must run: {why}")
        pytest.skip(why)
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=True, timeout=30)


def fill(disk: Path) -> Path:
    """Write a file that takes every byte left on ``disk``."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 9):
            with contextlib.suppress(OSError):
                for _ in range(DISK_BYTES // chunk + 1):
                    f.write(b"\0" * chunk)
    with pytest.raises(OSError) as full, open(disk / "probe", "wb", buffering=0) as probe:
        probe.write(b"\0" * 4096)
    assert full.value.errno == errno.ENOSPC
    return filler


def inbound(fake, call_in_thread, d: Daemon, sender: str, body: str, sid: str) -> tuple[int, str]:
    return call_in_thread(fake.text(d.url + "/carriers/twilio/inbound", sender, body, sid))


def test_a_full_disk_is_503_and_one_log_line_then_the_same_daemon_carries_on(tmp_path, small_disk):
    with fake_twilio_in_a_thread() as (fake, in_thread):
        db = small_disk / "gateway.sqlite3"
        d = Daemon(tmp_path, database={"url": f"sqlite:///{db}"}, carrier={
            "backend": "twilio", "from_number": TWILIO_NUMBER, "twilio": {
                "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "api_base_url": fake.url, "max_per_second": 50}},
            outbox={"backoff_base_seconds": 0.2, "backoff_max_seconds": 0.4})
        d.db = db
        d.operator_key = lambda: (small_disk / "operator.key").read_text().strip()
        fake.deliver_to = d.url
        try:
            site = seed_site(d, 3)
            d.start()
            assert call(d, "POST", "/ext/v1/events", {"site_id": site, "event_code": "BA", "event_id": "evt_1"})[0] == 201
            wait_until(lambda: len(fake.received) == 3, "the alarm's three texts sent")
            first, second = fake.new_sid(), fake.new_sid()
            status, twiml = inbound(fake, in_thread, d, phone(0), "YES", first)
            assert status == 200 and "CONFIRMED" in twiml
            fake.always = Answer(status=503)  # the next alarm's texts wait in the outbox, retried all along
            assert call(d, "POST", "/ext/v1/events", {"site_id": site, "event_code": "BA", "event_id": "evt_2"})[0] == 201
            wait_until(lambda: len(fake.tried) >= 9, "the second alarm's texts refused twice each")

            filler = fill(small_disk)
            answers = [inbound(fake, in_thread, d, phone(1), "NO", second) for _ in range(5)]  # Twilio, then retries
            assert [status for status, _ in answers] == [503] * 5, answers
            assert json.loads(answers[0][1])["error"]["code"] == "STORE_UNAVAILABLE"
            assert call(d, "POST", "/ext/v1/events", {"site_id": site, "event_code": "BA", "event_id": "evt_3"})[0] == 503
            status, ready = call(d, "GET", "/readyz")
            assert status == 503 and ready["checks"]["store"] is False
            time.sleep(1.0)  # ten polls of the sender, whose claims of the waiting texts cannot be written now
            full_log = d.log.read_text()

            filler.unlink()
            (small_disk / "probe").unlink()
            fake.always = None
            assert call(d, "GET", "/readyz")[0] == 200  # the same process: no restart
            status, twiml = inbound(fake, in_thread, d, phone(1), "NO", second)  # the carrier's retry, recorded now
            assert status == 200 and "CANCELLED" in twiml  # the second alarm's verification
            assert call(d, "POST", "/ext/v1/events", {"site_id": site, "event_code": "BA", "event_id": "evt_3"})[0] == 201
            wait_until(lambda: len(fake.received) == 9, "the texts of the alarms before and after sent")
            logged = event_log(d, site)
            assert d.stop() == 0
        finally:
            d.close()
    codes = [row["code"] for row in logged]
    assert codes.count("SMSSENT") == 9 and codes.count("SMSYES") == 1, codes  # before the fill and after it
    assert [row["code"] for row in logged if row["phone"] == phone(1) and row["code"] == "SMSNO"] == ["SMSNO"]
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert full_log.count(FULL_LINE) == 1 and "Traceback" not in full_log, full_log[-3000:]
    assert "takes writes again" in d.log.read_text()
