"""Is the event loop still responsive while PIN checks run? (issue 3)

Starts ``gateway serve`` on a temp SQLite file, gives N group contacts PINs (seeded in this
process through the store, before the daemon starts), then drives two open-loop streams at
once from this process over 127.0.0.1:

- PIN texts (``SITES <pin>``, half right, half wrong, spread over many numbers so no
  lockout starts) at ``--pin-rate`` per second: each costs two argon2id checks;
- non-PIN texts (unknown numbers, ``hello``) at ``--rate`` per second.

It reports the latency of the non-PIN texts with the PIN stream on, and again alone as the
baseline, plus the PIN texts' own latency and the daemon's peak RSS. Aim: the non-PIN p99
barely moves. Every loop is bounded in count and time.

    .venv/bin/python bench/interface.py            # about 40 s
    .venv/bin/python bench/interface.py --quick    # about 15 s
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from harness import RssMonitor, free_port, wait_ready  # noqa: E402

PIN = "48213579"


async def seed(db: Path, contacts: int) -> list[str]:
    from gateway.clock import Clock
    from gateway.auth.hashes import hash_secret
    from gateway.model import Contact, Site, SiteGroup
    from gateway.stores import open_store

    clock = Clock()
    store = open_store(f"sqlite:///{db}", clock=clock)
    await store.open()
    await store.add_site_group(SiteGroup(id="grp", dealer_id="bench", name="Bench", created_at=clock.now()))
    for n in range(5):
        await store.add_site(Site(id=f"site_{n}", dealer_id="bench", name=f"Site {n}", created_at=clock.now()))
        await store.add_site_to_group("grp", f"site_{n}")
    pin_hash = hash_secret(PIN)  # one hash for all: the cost of a check is the same
    phones = []
    for n in range(contacts):
        phone = f"+1555300{n:04d}"
        contact = await store.add_contact(Contact(id=0, site_id=None, group_id="grp", first_name="C", last_name=str(n),
                                                  phone=phone, created_at=clock.now()))
        await store.set_pin(contact.id, pin_hash, clock.now() + timedelta(days=365))
        phones.append(phone)
    await store.close()
    return phones


async def stream(http: aiohttp.ClientSession, url: str, rate: float, seconds: float, make, latencies: list[float],
                 errors: list[str]) -> None:
    """Open loop: send at ``rate``/s for ``seconds`` whatever the answers do; record each latency."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = []
    for i in range(int(rate * seconds)):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(http, url, make(i), latencies, errors)))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + 30)


async def one(http, url, payload, latencies, errors) -> None:
    t0 = time.perf_counter()
    try:
        async with http.post(url, json=payload) as resp:
            await resp.read()
            if resp.status != 200:
                errors.append(str(resp.status))
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        errors.append(type(exc).__name__)
    latencies.append((time.perf_counter() - t0) * 1000)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def phase(url: str, rate: float, pin_rate: float, seconds: float, phones: list[str], tag: str) -> dict:
    ids = itertools.count()
    plain, pins, errors = [], [], []
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:
        def plain_text(i):
            return {"from": f"+1555900{i % 5000:04d}", "body": "hello", "message_id": f"{tag}p{next(ids)}"}

        def pin_text(i):
            pin = PIN if i % 2 == 0 else "11112222"
            return {"from": phones[i % len(phones)], "body": f"SITES {pin}", "message_id": f"{tag}k{next(ids)}"}

        jobs = [stream(http, url, rate, seconds, plain_text, plain, errors)]
        if pin_rate:
            jobs.append(stream(http, url, pin_rate, seconds, pin_text, pins, errors))
        await asyncio.gather(*jobs)
    return {"plain_p50": pct(plain, 0.5), "plain_p99": pct(plain, 0.99), "plain_max": max(plain, default=0),
            "plain_n": len(plain), "pin_p50": pct(pins, 0.5), "pin_p99": pct(pins, 0.99), "pin_n": len(pins),
            "errors": len(errors)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200, help="non-PIN texts per second")
    parser.add_argument("--pin-rate", type=float, default=20, help="PIN texts per second (two argon2 checks each)")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.contacts = 5, 50
    gateway = shutil.which("gateway", path=str(Path(sys.executable).parent)) or shutil.which("gateway")
    with tempfile.TemporaryDirectory(prefix="bench-interface-") as tmp:
        work = Path(tmp)
        db, port = work / "gateway.sqlite3", free_port()
        phones = asyncio.run(seed(db, args.contacts))
        config = work / "gateway.yaml"
        config.write_text(f"http: {{host: 127.0.0.1, port: {port}}}\ndatabase: {{url: \"sqlite:///{db}\"}}\n"
                          f"keywords: {HERE.parent / 'keywords.yaml'}\nlogging: {{level: WARNING}}\n"
                          "interface: {reply_budget: 1000000, max_pin_failures: 1000000}\n")
        log = open(work / "daemon.log", "wb")
        daemon = subprocess.Popen([gateway, "serve", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        rss = RssMonitor(daemon.pid)
        try:
            if wait_ready(f"http://127.0.0.1:{port}/readyz", daemon, timeout=30) is None:
                print("daemon did not start", file=sys.stderr)
                return 1
            url = f"http://127.0.0.1:{port}/carriers/loopback/inbound"
            base = asyncio.run(phase(url, args.rate, 0, args.seconds, phones, "b"))
            loaded = asyncio.run(phase(url, args.rate, args.pin_rate, args.seconds, phones, "l"))
        finally:
            rss.stop()
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=30)
        print(f"non-PIN texts at {args.rate:.0f}/s for {args.seconds:.0f} s; PIN texts at {args.pin_rate:.0f}/s "
              f"(2 argon2id checks each, 19 MiB, t=2), {os.cpu_count()} CPUs")
        print(f"{'':28}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'texts':>8}{'errors':>8}")
        print(f"{'non-PIN alone':28}{base['plain_p50']:9.2f}{base['plain_p99']:9.2f}{base['plain_max']:9.1f}"
              f"{base['plain_n']:8d}{base['errors']:8d}")
        print(f"{'non-PIN with PIN load':28}{loaded['plain_p50']:9.2f}{loaded['plain_p99']:9.2f}"
              f"{loaded['plain_max']:9.1f}{loaded['plain_n']:8d}{loaded['errors']:8d}")
        print(f"{'PIN texts':28}{loaded['pin_p50']:9.2f}{loaded['pin_p99']:9.2f}{'':9}{loaded['pin_n']:8d}")
        print(f"daemon peak RSS {rss.peak_kb / 1024:.1f} MB; SIGTERM exit {code}")
        return 0 if code == 0 and not base["errors"] and not loaded["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
