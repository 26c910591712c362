"""HAProxy in front of two daemons on one PostgreSQL, with the stanza the README gives (systemd/haproxy.cfg.example,
run as it is with this test's ports): alarm events and carrier webhooks posted through it are served by both
daemons; one daemon stopped mid-stream, every request is still answered and nothing answered is lost."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests import storage
from tests.conftest import ROOT, free_port
from tests.faults.harness import close_all, cluster, loopback_sent, phone, seed_site, start_all, wait_until

pytestmark = pytest.mark.postgres
STANZA = ROOT / "systemd" / "haproxy.cfg.example"
CONTACTS = 5


def _config(front: int, ports: list[int]) -> str:
    text = STANZA.read_text()
    for placeholder, port in zip(("127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:8082"), [front, *ports]):
        assert placeholder in text
        text = text.replace(placeholder, f"127.0.0.1:{port}")
    return text


def _post(url: str, payload: dict, key: str | None = None) -> int:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=15) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_readme_stanza_matches_the_shipped_file():
    readme = (ROOT / "README.md").read_text()
    assert STANZA.read_text().strip() in readme


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="no haproxy (Debian package haproxy; .ci/run installs it)")
def test_haproxy_spreads_traffic_over_two_daemons_and_loses_nothing_when_one_stops(tmp_path, pg_url):
    # stop_grace_seconds as the README asks behind a balancer: above the health check's inter 1s x fall 2
    daemons = cluster(tmp_path, pg_url, 2, carrier={"loopback_latency_seconds": 0.01}, http={"stop_grace_seconds": 3})
    front = free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(_config(front, [d.port for d in daemons]))
    haproxy = None
    answers: list[tuple[str, int]] = []
    try:
        site = seed_site(pg_url, CONTACTS)
        start_all(daemons)
        key = daemons[0].cli("api-key", "add", "--name", "through-haproxy").stdout.strip()  # stored: both take it
        haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{front}"
        wait_until(lambda: _status(base + "/readyz") == 200, "HAProxy serving /readyz", 20)
        stop_after = threading.Event()

        def stream() -> None:
            for n in range(60):
                if n == 20:
                    stop_after.set()
                event = f"evt_{n}"
                requests = [(event, base + "/ext/v1/events", {"site_id": site, "event_code": "BA",
                                                              "event_id": event, "text": f"lb {event}"}, key),
                            (f"in_{n}", base + "/carriers/loopback/inbound", {
                                "from": phone(100 + n), "body": f"hello {n}", "message_id": f"LBIN-lb-{n}"}, None)]
                for what, url, payload, bearer in requests[::1 if n % 2 else -1]:  # both kinds to both daemons
                    answers.append((what, _post(url, payload, bearer)))
                time.sleep(0.03)

        poster = threading.Thread(target=stream, name="through-haproxy")
        poster.start()
        stop_after.wait(30)
        assert daemons[0].stop() == 0  # SIGTERM mid-stream: it drains what it took, HAProxy sends the rest on
        poster.join(120)
        assert not poster.is_alive()
        served = [d.log.read_text().count(" alarm evt_") for d in daemons]  # each daemon logs the alarms it took
        rows = wait_until(lambda: (r := loopback_sent(daemons[1])) and len(r) >= 60 * CONTACTS and r,
                          "every verification text sent", 60)
    finally:
        if haproxy is not None:
            haproxy.terminate()
            haproxy.wait(10)
        close_all(daemons)
    refused = [(what, status) for what, status in answers if status not in (200, 201)]
    assert refused == []  # every request answered by a daemon that took it, through the stop
    assert all(served) and sum(served) == 60, served  # round robin reached both daemons; each alarm taken once
    texts = {r["body"].split("lb ", 1)[1].split()[0] for r in rows}
    assert texts == {f"evt_{n}" for n in range(60)}  # every alarm taken was texted
    inbound = {r["carrier_message_id"] for r in storage.rows(pg_url, "inbound_messages")}
    assert {f"LBIN-lb-{n}" for n in range(60)} <= inbound  # every webhook answered was recorded


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0

