"""Connection bounds of a real daemon under slow and idle clients: read deadlines, the cap, the open-file limit.

Socket timeouts cannot be moved by a ManualClock, so the daemons here get short ones (1 s) and every
client is bounded in count and seconds. The one latency bound is the issue's own: a webhook under attack
is answered within 100 ms.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import resource
import socket
import statistics
import time

import aiohttp
import pytest

from tests.daemon import Daemon

INBOUND = "/carriers/loopback/inbound"
SLOW_BODY = (f"POST {INBOUND} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Content-Length: 500\r\n").encode()


@pytest.fixture(autouse=True)
def enough_open_files():
    """This process holds a thousand client sockets at most; the soft limit may be lower than that."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def daemons(tmp_path):
    started: list[Daemon] = []

    def start(http: dict, preexec_fn=None) -> Daemon:
        d = Daemon(tmp_path / str(len(started)), http=http)
        started.append(d)
        d.start(preexec_fn)
        return d

    (tmp_path / "0").mkdir()
    yield start
    for d in started:
        d.close()


async def _connect_all(port: int, count: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """``count`` open connections, made in batches the listen backlog takes without dropping a SYN."""
    conns = []
    for start in range(0, count, 100):
        conns += await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port)
                                        for _ in range(start, min(count, start + 100))))
    return conns


async def _until_closed(reader: asyncio.StreamReader) -> bytes:
    data = b""
    try:
        while chunk := await reader.read(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


async def _trickle(port: int, connecting: asyncio.Semaphore, head: bytes, piece: bytes, pieces: int = 40,
                   every: float = 0.1) -> tuple[bytes, int, bool]:
    """Connect, send ``head`` at once, then one ``piece`` every ``every`` seconds until the server closes:
    what it answered, how many pieces went out, and whether it closed before the client ran out."""
    async with connecting:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    closed = asyncio.ensure_future(_until_closed(reader))
    sent = 0
    while sent < pieces and not closed.done():
        await asyncio.wait([closed], timeout=every)
        if not closed.done() and piece:
            writer.write(piece)
        sent += 1
    done = closed.done()
    if not done:
        closed.cancel()
    writer.close()
    return (closed.result() if done else b""), sent, done


async def _webhook(session: aiohttp.ClientSession, url: str, n: int) -> tuple[int, float]:
    started = time.perf_counter()
    async with session.post(url + INBOUND, json={"from": "+15550100123", "body": f"hello {n}"}) as resp:
        await resp.read()
        return resp.status, time.perf_counter() - started


def test_slow_clients_are_cut_off_on_time_and_a_webhook_is_answered_at_once(daemons):
    d = daemons({"header_timeout_seconds": 1.0, "body_timeout_seconds": 1.0, "keepalive_seconds": 1.5})

    async def attack():
        connecting = asyncio.Semaphore(100)  # SYNs in flight, within the listen backlog
        slow_headers = f"POST {INBOUND} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
        clients = ([_trickle(d.port, connecting, b"", b"") for _ in range(300)]
                   + [_trickle(d.port, connecting, slow_headers, b"X-Slow: 1\r\n") for _ in range(200)]
                   + [_trickle(d.port, connecting, SLOW_BODY + b"\r\n{", b" ") for _ in range(20)]
                   + [_trickle(d.port, connecting, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"")])
        attackers = asyncio.gather(*clients)
        await asyncio.sleep(0.3)
        latencies = []
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
            for n in range(10):
                latencies.append(await _webhook(session, d.url, n))
                await asyncio.sleep(0.05)
        return latencies, await attackers

    latencies, results = asyncio.run(attack())
    assert [status for status, _ in latencies] == [200] * 10
    median = statistics.median(seconds for _, seconds in latencies)
    assert median < 0.1, f"webhook median {median * 1000:.0f} ms under 520 slow clients"
    idle, slowloris, bodies, kept = results[:300], results[300:500], results[500:520], results[520]
    # a connection that never sent a byte is closed without a word; half a request is told 408
    assert all(closed and data == b"" for data, _, closed in idle), _summary(idle)
    assert all(closed and data.startswith(b"HTTP/1.1 408 ") for data, _, closed in slowloris), _summary(slowloris)
    assert all(closed and data.startswith(b"HTTP/1.1 408 ") and b'"REQUEST_TIMEOUT"' in data
               for data, _, closed in bodies), _summary(bodies)
    assert kept[2] and kept[0].startswith(b"HTTP/1.1 200 ") and kept[0].count(b"HTTP/1.1") == 1  # idle after it


def _summary(results) -> str:
    """How many clients saw which answer (its first line), after how many pieces, closed or not."""
    return str(collections.Counter((data.split(b"\r\n", 1)[0], sent, closed) for data, sent, closed in results))


def _status(data: bytes) -> int:
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0


async def _request(port: int, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    try:
        return await asyncio.wait_for(_until_closed(reader), 5)
    finally:
        writer.close()


def test_over_the_cap_the_stalest_idle_makes_room_busy_ones_refuse_and_healthz_still_answers(daemons):
    d = daemons({"max_connections": 20, "header_timeout_seconds": 5.0, "body_timeout_seconds": 5.0})
    body = json.dumps({"from": "+15550100123", "body": "hello"})
    post = (f"POST {INBOUND} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}").encode()
    healthz = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

    async def scenario():
        idle = await _connect_all(d.port, 60)
        answered = _status(await _request(d.port, post))
        waits = [asyncio.ensure_future(_until_closed(r)) for r, _ in idle]
        await asyncio.wait(waits, timeout=0.5)
        evicted = sum(w.done() for w in waits)

        busy = await _connect_all(d.port, 20)  # requests in their handlers, bodies still on their way
        for reader, writer in busy:
            writer.write(SLOW_BODY + b"Expect: 100-continue\r\n\r\n")
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 100 ")
            writer.write(b"{")
        over_cap = [await _request(d.port, post) for _ in range(3)]
        health = await _request(d.port, healthz)

        probes = await _connect_all(d.port, 8)  # the health slots, held by requests whose bodies never end
        for reader, writer in probes:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n{")
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200 ")
        reader, writer = await asyncio.open_connection("127.0.0.1", d.port)  # says nothing, refused at accept
        at_accept = await asyncio.wait_for(_until_closed(reader), 5)
        writer.close()
        for w in waits:
            w.cancel()
        for _, writer in idle + busy + probes:
            writer.close()
        return answered, evicted, over_cap, health, at_accept

    answered, evicted, over_cap, health, at_accept = asyncio.run(scenario())
    assert answered == 200 and evicted >= 40  # 60 idle on a cap of 20: the oldest made room for the request
    assert [_status(r) for r in over_cap] == [503] * 3 and all(b'"OVERLOADED"' in r for r in over_cap)
    assert _status(health) == 200
    assert _status(at_accept) == 503 and b"Retry-After: 1" in at_accept


def _accept_error_lines(d: Daemon) -> list[str]:
    return [line for line in d.log.read_text().splitlines() if "accept" in line]


def test_running_out_of_open_files_is_logged_once_not_per_connection(daemons):
    d = daemons({})
    fds = len(os.listdir(f"/proc/{d.proc.pid}/fd"))
    resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (fds + 2, resource.prlimit(d.proc.pid,
                                                                                      resource.RLIMIT_NOFILE)[1]))
    socks = []
    try:
        for _ in range(200):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", d.port))
            socks.append(s)
        time.sleep(2.2)  # asyncio retries accept() every second
    finally:
        resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (4096, resource.prlimit(d.proc.pid,
                                                                                       resource.RLIMIT_NOFILE)[1]))
        for s in socks:
            s.close()
    assert d.request("GET", "/healthz")[0] == 200
    d.stop()
    lines = _accept_error_lines(d)
    assert 1 <= len(lines) <= 2, f"{len(lines)} accept error lines"
    assert "Too many open files" in lines[0] and "LimitNOFILE" in lines[0]


def test_a_cap_above_the_open_file_limit_is_lowered_so_healthz_outlives_a_flood(daemons):
    """The issue's open-file limit (1,024), and more connections than that."""
    d = daemons({}, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024)))

    async def flood():
        conns = await _connect_all(d.port, 1100)
        status = _status(await _request(d.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        for _, writer in conns:
            writer.close()
        return status

    assert asyncio.run(flood()) == 200
    d.stop()
    assert "http.max_connections 1000 lowered to 760: the open-file limit is 1024" in d.log.read_text()
    assert _accept_error_lines(d) == []
