"""The daemon as systemd and operators see it: a real subprocess, signals, sd_notify, crash recovery."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter

import pytest

from tests import storage
from tests.daemon import Daemon, wait_for


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path)
    yield d
    d.close()


def seed(d: Daemon, contacts: int = 1) -> str:
    site = d.cli("site", "add", "--dealer", "12345", "--name", "Main Office").stdout.split("\t")[0]
    for n in range(contacts):
        d.cli("contact", "add", "--site", site, "--first-name", f"C{n}", "--last-name", "Doe",
              "--phone", f"+1555012{n:04d}", "--auto-notify")
    return site


def post_alarm(d: Daemon, site: str, event_id: str) -> dict:
    status, body = d.request("POST", "/ext/v1/events",
                             json.dumps({"site_id": site, "event_code": "BA", "event_id": event_id}).encode(),
                             {"Content-Type": "application/json", "Authorization": f"Bearer {d.operator_key()}"})
    assert status == 201, body
    return json.loads(body)["data"]


def wait_until(predicate, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def outbox_counts(db_url: str) -> dict[str, int]:
    """The outbox's messages by status, read from storage: the daemon may be dead."""
    return dict(Counter(row["status"] for row in storage.rows(db_url, "outbound_messages")))


def test_ready_notify_and_readyz_then_graceful_stop(daemon):
    lines = daemon.start()
    assert "READY=1" in lines
    status, body = daemon.request("GET", "/readyz")
    assert status == 200 and json.loads(body)["checks"] == {"store": True, "sender": True}
    assert daemon.stop() == 0
    assert "STOPPING=1" in daemon.wait_notify("STOPPING=1")
    assert not (daemon.tmp / "operator.key").exists()


def test_kill_9_loses_no_committed_message(tmp_path):
    d = Daemon(tmp_path, carrier={"loopback_latency_seconds": 0.05}, outbox={"max_in_flight": 1})  # ~5 s of sends
    try:
        site = seed(d, contacts=10)
        d.start()
        for n in range(10):
            post_alarm(d, site, f"evt_{n}")  # 201: 10 texts committed each
        d.kill()
        at_kill = outbox_counts(d.db_url)
        assert at_kill.get("queued", 0) + at_kill.get("sending", 0) > 0, at_kill  # the crash left work behind
        d.start()
        wait_until(lambda: outbox_counts(d.db_url) == {"sent": 100})
        status, body = d.request("GET", "/carriers/loopback/outbox?limit=1000")
        assert status == 200, body
        carrier_got = {message["outbound_id"] for message in json.loads(body)["messages"]}
        committed = {row["id"] for row in storage.rows(d.db_url, "outbound_messages")}
        assert carrier_got == committed  # every committed message reached the carrier (at least once)
        assert d.stop() == 0
    finally:
        d.close()


def test_sigterm_drains_in_flight_sends_and_exits_0(tmp_path):
    d = Daemon(tmp_path, carrier={"loopback_latency_seconds": 0.05}, outbox={"batch_size": 5, "drain_seconds": 5})
    try:
        site = seed(d, contacts=10)
        d.start()
        post_alarm(d, site, "evt_1")
        time.sleep(0.1)
        started = time.monotonic()
        assert d.stop() == 0
        assert time.monotonic() - started < 8
        counts = outbox_counts(d.db_url)
        assert "sending" not in counts and sum(counts.values()) == 10, counts  # nothing stuck mid-send
        d.start()  # what was still queued goes out after the restart
        wait_until(lambda: outbox_counts(d.db_url) == {"sent": 10})
    finally:
        d.close()


def test_sighup_keeps_old_table_on_bad_file_and_takes_good_one(tmp_path):
    from tests.conftest import KEYWORDS

    keywords = tmp_path / "keywords.yaml"
    good = KEYWORDS.read_text()
    keywords.write_text(good)
    d = Daemon(tmp_path, keywords=keywords)
    try:
        site = seed(d)
        d.start()
        keywords.write_text(good.replace("triggers: [BA, BV, BG]", "triggers: [BA, BV, BG]\n    bogus_key: 1"))
        d.signal(signal.SIGHUP)
        wait_until(lambda: b'gateway_keyword_reloads_total{result="rejected"} 1.0' in d.request("GET", "/metrics")[1])
        assert "keywords reload rejected" in d.log.read_text() and "bogus_key" in d.log.read_text()
        assert [v["process"] for v in post_alarm(d, site, "evt_1")["verifications"]] == ["burglary-verification"]
        keywords.write_text(good.replace("name: burglary-verification", "name: burglary-v2"))
        d.signal(signal.SIGHUP)
        wait_until(lambda: b'gateway_keyword_reloads_total{result="ok"} 1.0' in d.request("GET", "/metrics")[1])
        assert [v["process"] for v in post_alarm(d, site, "evt_2")["verifications"]] == ["burglary-v2"]
        assert d.stop() == 0
    finally:
        d.close()


def test_metrics_exposed(daemon):
    seed(daemon)
    daemon.start()
    status, body = daemon.request("GET", "/metrics")
    text = body.decode()
    assert status == 200
    for name in ("gateway_inbound_messages", "gateway_outbox_depth", "gateway_event_log_rows",
                 "gateway_verification_response_seconds", "gateway_http_request_seconds"):
        assert name in text


def test_reload_survives_a_file_that_is_not_text(tmp_path):
    from gateway.clock import Clock
    from gateway.services.keyword_holder import KeywordFile
    from gateway.daemon.metrics import Metrics
    from tests.conftest import KEYWORDS

    path = tmp_path / "keywords.yaml"
    path.write_text(KEYWORDS.read_text())
    keywords = KeywordFile(path, Metrics(), Clock())
    before = keywords.table
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert keywords.reload() is False and keywords.table is before
    path.write_text("[" * 5000)
    assert keywords.reload() is False and keywords.table is before


def test_a_second_daemon_on_the_same_database_refuses_to_start(daemon):
    import subprocess
    import sys

    daemon.start()
    second = subprocess.run([sys.executable, "-m", "gateway", "serve", "-c", str(daemon.config)],
                            capture_output=True, text=True, timeout=30, cwd=daemon.tmp)
    assert second.returncode != 0
    assert f"another gateway (pid {daemon.proc.pid}) is serving this database" in second.stderr
    assert daemon.request("GET", "/readyz")[0] == 200  # the first one is untouched


def test_a_taken_port_is_one_clear_line_and_exit(tmp_path):
    import socket
    import subprocess
    import sys

    d = Daemon(tmp_path)
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", d.port))
            taken.listen()
            result = subprocess.run([sys.executable, "-m", "gateway", "serve", "-c", str(d.config)],
                                    capture_output=True, text=True, timeout=30, cwd=tmp_path)
        assert result.returncode == 2
        assert f"cannot listen on 127.0.0.1:{d.port}" in result.stderr and "Traceback" not in result.stderr
    finally:
        d.close()


def test_sigterm_with_a_stop_grace_answers_readyz_503_while_still_serving(tmp_path):
    """Behind a load balancer: after SIGTERM the daemon says it is going (/readyz 503, detail stopping) for
    http.stop_grace_seconds and still answers what the balancer sends meanwhile, then stops as usual."""
    d = Daemon(tmp_path, http={"stop_grace_seconds": 3.0})
    try:
        d.start()
        assert d.request("GET", "/readyz")[0] == 200
        d.signal(signal.SIGTERM)
        _, body = wait_for(lambda: (r := d.request("GET", "/readyz"))[0] == 503 and r, "readyz 503", 3)
        assert json.loads(body)["detail"] == "stopping"
        status, _ = d.request("POST", "/carriers/loopback/inbound",
                              json.dumps({"from": "+15550100001", "body": "HELP"}).encode(),
                              {"Content-Type": "application/json"})
        assert status == 200  # still served during the grace
        assert d.proc.wait(timeout=20) == 0
    finally:
        d.close()
