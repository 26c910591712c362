"""Fault 5: slow and idle clients hold connections while Twilio delivers a burst of real, signed webhooks.

The bounds themselves (header and body deadlines, the connection cap, the open-file limit) are tested in
tests/test_connections.py, whose raw clients this reuses; here they meet Twilio's own traffic: every signed
webhook of the burst is answered with TwiML and recorded, and a Twilio form that is too large or malformed
is a 4xx (never a 500), under the same attack.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.daemon import Daemon
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, fake_twilio_in_a_thread
from tests.faults.harness import Figures, event_log, phone, seed_site
from tests.test_connections import _connect_all, _request, _trickle, enough_open_files  # noqa: F401

pytestmark = pytest.mark.usefixtures("enough_open_files")  # a thousand client sockets in this process
INBOUND = "/carriers/twilio/inbound"
BURST = 50
MAX_BODY = 65536


def _post(body: bytes, content_type: str = "application/x-www-form-urlencoded", extra: str = "") -> bytes:
    return (f"POST {INBOUND} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Twilio-Signature: x\r\nConnection: close\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n{extra}\r\n").encode() + body


def _status(answer: bytes) -> int:
    """The status of a raw answer (aiohttp's parser answers its own 400s as HTTP/1.0); 0 for none."""
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else 0


def _chunked(size: int) -> bytes:
    chunk = b"Body=" + b"a" * 8187
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(size // len(chunk) + 1))
    return (f"POST {INBOUND} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n\r\n").encode() + chunks + b"0\r\n\r\n"


MALFORMED = {  # what each is answered
    "a body over http.max_body_bytes": (_post(b"Body=" + b"a" * MAX_BODY), 413),
    "a chunked body over it": (_chunked(MAX_BODY * 2), 413),
    "a form of 1001 fields": (_post(b"&".join(b"k%d=v" % n for n in range(1001))), 413),
    "a form that is not UTF-8": (_post(b"From=%2B15550130000&Body=\xff\xfe"), 400),
    "a %-escape that is not UTF-8": (_post(b"From=%2B15550130000&Body=%ff%fe"), 400),
    "JSON, not a form": (_post(b'{"Body": "YES"}', "application/json"), 415),
    "no Content-Type": (_post(b"Body=YES").replace(b"Content-Type: application/x-www-form-urlencoded\r\n", b""), 415),
    "a form of nothing but separators": (_post(b"&&==&%%&=&"), 403),
    "a Content-Length that is not a number": (_post(b"Body=YES").replace(b"Content-Length: 8", b"Content-Length: 8x"),
                                              400),
}


@dataclass
class HostileRun:
    figures: Figures
    burst: list[tuple[int, str]]  # each webhook's status and Content-Type
    recorded: list[str]  # the event log's comments from the burst's sender
    bad: dict[str, int]  # each malformed request's status
    cut_off: int  # slow clients the deadlines closed
    slow: int
    log: str


def run(tmp: Path, *, idle: int = 1000, slowloris: int = 100, slow_bodies: int = 20, burst: int = 50) -> HostileRun:
    """``idle`` connections that say nothing and ``slowloris`` + ``slow_bodies`` that trickle, then a ``burst``
    of signed webhooks (10 at a time) and the malformed forms, all while they hold on."""
    with fake_twilio_in_a_thread() as (fake, _):
        d = Daemon(tmp, http={"header_timeout_seconds": 1.0, "body_timeout_seconds": 1.0,
                              "keepalive_seconds": 1.5, "max_body_bytes": MAX_BODY}, carrier={
            "backend": "twilio", "from_number": TWILIO_NUMBER, "twilio": {
                "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "api_base_url": fake.url}})
        try:
            site = seed_site(d, 1)
            d.start()
            sids = [fake.new_sid() for _ in range(burst)]

            async def webhook(session: aiohttp.ClientSession, n: int) -> tuple[int, str]:
                fields = fake.inbound_fields(phone(0), f"hello {n}", sids[n])
                headers = {"X-Twilio-Signature": fake.sign(d.url + INBOUND, fields)}
                async with session.post(d.url + INBOUND, data=fields, headers=headers) as resp:
                    return resp.status, resp.headers.get("Content-Type", "")

            async def attack():
                held = await _connect_all(d.port, idle)
                connecting = asyncio.Semaphore(100)
                partial = f"POST {INBOUND} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
                slow_body = (f"POST {INBOUND} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n"
                             "Content-Type: application/x-www-form-urlencoded\r\n\r\nBody=").encode()
                slow = asyncio.gather(*([_trickle(d.port, connecting, partial, b"X-Slow: 1\r\n")
                                         for _ in range(slowloris)]
                                        + [_trickle(d.port, connecting, slow_body, b"a") for _ in range(slow_bodies)]))
                await asyncio.sleep(0.3)
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=10)) as session:
                    answers = await asyncio.gather(*(webhook(session, n) for n in range(burst)))
                bad = {name: _status(await _request(d.port, raw)) for name, (raw, _) in MALFORMED.items()}
                cut_off = await slow
                for _, writer in held:
                    writer.close()
                return answers, bad, cut_off

            answers, bad, cut_off = asyncio.run(attack())
            recorded = [row["comment"] for row in event_log(d, site) if row["phone"] == phone(0)]
            assert d.stop() == 0
        finally:
            d.close()
    copies = collections.Counter(recorded)
    figures = Figures(f"{idle} idle + {slowloris + slow_bodies} slow clients", sent=sum(s == 200 for s, _ in answers),
                      lost=burst - len(copies), duplicated=sum(copies.values()) - len(copies), late=0,
                      note=f"{burst} signed webhooks; malformed forms answered {sorted(set(bad.values()))}")
    return HostileRun(figures, answers, recorded, bad, sum(closed for _, _, closed in cut_off), len(cut_off),
                      d.log.read_text())


def test_slow_and_idle_clients_do_not_stop_signed_twilio_webhooks_and_bad_forms_are_4xx(tmp_path):
    result = run(tmp_path)
    assert result.burst == [(200, "text/xml; charset=utf-8")] * BURST
    assert sorted(result.recorded) == sorted(f"hello {n}" for n in range(BURST))  # each recorded, once
    assert result.bad == {name: status for name, (_, status) in MALFORMED.items()}
    assert result.cut_off == result.slow  # the slow ones were cut off by the deadlines
    assert "Traceback" not in result.log and " 500 " not in result.log
