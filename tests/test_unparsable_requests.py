"""Requests aiohttp's own parser refuses (bad bytes in the request line or a header), sent to a real daemon:
one 400 in the error shape, no Server banner, and nothing in the log above DEBUG (no traceback per request)."""

from __future__ import annotations

import json
import socket

import pytest

from tests.daemon import Daemon

UNPARSABLE = [
    b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n",  # a raw byte in the path
    b"GARBAGE\r\n\r\n",  # not HTTP at all
    b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",  # a header line without a colon
    b"POST /carriers/twilio/inbound HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
]


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path)
    d.start()
    yield d
    d.close()


def _send(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(raw)
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    return answer


def test_unparsable_requests_are_400s_in_the_error_shape_and_leave_the_log_quiet(daemon):
    before = daemon.log.read_text()
    for raw in UNPARSABLE * 25:  # 100 of them: enough that a traceback each would be plain to see
        head, _, body = _send(daemon.port, raw).partition(b"\r\n\r\n")
        assert head.split(b" ", 2)[1] == b"400", head
        assert b"\r\nserver:" not in head.lower(), head
        assert json.loads(body)["error"]["code"] == "BAD_REQUEST"
    assert daemon.request("GET", "/healthz")[0] == 200
    logged = daemon.log.read_text()[len(before):]
    assert "Traceback" not in logged and "ERROR" not in logged, logged[:2000]
