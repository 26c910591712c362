"""Do strangers' guessed credentials starve real logins of argon2 time? (issue 8, item 5)

Starts ``gateway serve`` on a temp SQLite file seeded (through the store, before the daemon
starts) with contacts that have PINs, API keys and OAuth clients, then runs three phases,
each an open-loop flood of wrong credentials for ``--seconds``
while a real caller logs in once a second, from the flood's start until the flood's last
answer has come (at least ``--after`` seconds past its end, at most ``--max-drain``):

- sms: ``SITES <random 8 digits>`` from random numbers through /carriers/loopback/inbound at
  ``--rate`` per second (two argon2 checks each); the real login is ``SITES <PIN>`` from one of ``--contacts``
  contacts in turn (a contact logs in every ``--contacts`` seconds, as people do);
- bearer: ``GET /ext/v1/event-log`` with ``Bearer gwk_<random id>_<random secret>`` at
  ``--api-rate`` per second (one check each, so the default 100 is the sms phase's load); the real
  caller uses a key not used before each time (a remembered key needs no argon2 check);
- oauth: ``POST /oauth/token`` with a random client id and secret; the real caller is one of
  ``--contacts`` clients in turn.

The flood comes from ``--sources`` loopback addresses (127.0.0.2...), the real caller from
127.0.0.1. Latency counts from the scheduled send, so a queue shows up as latency. Prints
one row per phase. Exit 0 when every phase ran, whatever the figures; 1 when the daemon did
not start or exit 0, or a real login got a wrong answer. Every loop is bounded in count and time.

    .venv/bin/python bench/argon2_flood.py                 # about 3 min after the fix, 4-5 before
    .venv/bin/python bench/argon2_flood.py --seconds 8     # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
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

from harness import free_port, wait_ready  # noqa: E402

PIN = "48213579"
SECRET = "bench-secret-" + "x" * 20  # every seeded key and client shares it: the check costs the same
SITES_REPLY = "1 Site 0\n2 Site 1\n3 Site 2"


async def seed(db: Path, contacts: int, keys: int) -> tuple[list[str], list[str], list[str]]:
    """The contacts' phones, full API keys and OAuth client ids."""
    from gateway.clock import Clock
    from gateway.auth.hashes import hash_secret
    from gateway.model import Contact, Site, SiteGroup
    from gateway.stores import OAuthClient, open_store

    clock = Clock()
    store = open_store(f"sqlite:///{db}", clock=clock)
    await store.open()
    await store.add_site_group(SiteGroup(id="grp", dealer_id="bench", name="Bench", created_at=clock.now()))
    for n in range(3):
        await store.add_site(Site(id=f"site_{n}", dealer_id="bench", name=f"Site {n}", created_at=clock.now()))
        await store.add_site_to_group("grp", f"site_{n}")
    pin_hash, secret_hash = hash_secret(PIN), hash_secret(SECRET)
    phones, full_keys, client_ids = [], [], []
    for n in range(contacts):
        phone = f"+1555300{n:04d}"
        contact = await store.add_contact(Contact(id=0, site_id=None, group_id="grp", first_name="C", last_name=str(n),
                                                  phone=phone, created_at=clock.now()))
        await store.set_pin(contact.id, pin_hash, clock.now() + timedelta(days=365))
        phones.append(phone)
        client_id = f"gwc_bench{n:04d}"
        await store.add_oauth_client(OAuthClient(client_id=client_id, dealer_id="bench", secret_hash=secret_hash,
                                                 name=None, created_at=clock.now()))
        client_ids.append(client_id)
    for n in range(keys):
        key_id = f"{n:012x}"
        await store.add_api_key(key_id, f"bench {n}", secret_hash, clock.now())
        full_keys.append(f"gwk_{key_id}_{SECRET}")
    await store.close()
    return phones, full_keys, client_ids


class Phase:
    """One flood and the real logins beside it; requests are ``(method, path, kwargs, expected)``."""

    def __init__(self, name: str, rate: float, flood, real, refusal) -> None:
        self.name, self.rate, self.flood, self.real, self.refusal = name, rate, flood, real, refusal


def sms_phase(phones: list[str], rate: float) -> Phase:
    path = "/carriers/loopback/inbound"

    def flood(i):
        phone = f"+1555{random.randrange(200, 299)}{random.randrange(10**4):04d}"
        body = {"from": phone, "body": f"SITES {random.randrange(10**8):08d}", "message_id": f"f{i}-{secrets.token_hex(4)}"}
        return "POST", path, {"json": body}

    def real(i):
        body = {"from": phones[i % len(phones)], "body": f"SITES {PIN}", "message_id": f"r{i}-{secrets.token_hex(4)}"}
        return "POST", path, {"json": body}

    return Phase("sms", rate, flood, (real, lambda status, body: status == 200 and body.get("replies") == [SITES_REPLY]),
                 lambda status, body: status == 200 and body.get("replies") == ["PIN not accepted."])


def bearer_phase(keys: list[str], rate: float) -> Phase:
    path = "/ext/v1/event-log?limit=1"

    def flood(i):
        key = f"gwk_{secrets.token_hex(6)}_{secrets.token_urlsafe(24)}"
        return "GET", path, {"headers": {"Authorization": f"Bearer {key}"}}

    def real(i):
        return "GET", path, {"headers": {"Authorization": f"Bearer {keys[i % len(keys)]}"}}

    return Phase("bearer", rate, flood, (real, lambda status, body: status == 200), lambda status, body: status == 401)


def oauth_phase(client_ids: list[str], rate: float) -> Phase:
    def token(client_id, secret):
        return "POST", "/oauth/token", {"data": {"grant_type": "client_credentials", "client_id": client_id,
                                                 "client_secret": secret}}

    def flood(i):
        return token(f"gwc_{secrets.token_hex(8)}", secrets.token_urlsafe(32))

    def real(i):
        return token(client_ids[i % len(client_ids)], SECRET)

    return Phase("oauth", rate, flood, (real, lambda status, body: status == 200 and "access_token" in body),
                 lambda status, body: status == 401)


async def send(http: aiohttp.ClientSession, base: str, request, scheduled: float, check, out: list) -> None:
    method, path, kwargs = request
    loop = asyncio.get_running_loop()
    try:
        async with http.request(method, base + path, **kwargs) as resp:
            body = await resp.json(content_type=None) if resp.content_length != 0 else {}
            outcome = "ok" if check(resp.status, body or {}) else f"{resp.status}"
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        outcome = type(exc).__name__
    out.append((scheduled, loop.time(), outcome))


async def run_phase(base: str, phase: Phase, args) -> dict:
    loop = asyncio.get_running_loop()
    timeout = aiohttp.ClientTimeout(total=args.seconds + args.max_drain + 30)
    sessions = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, local_addr=(f"127.0.0.{2 + n}", 0)),
                                      timeout=timeout) for n in range(args.sources)]
    real_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, local_addr=("127.0.0.1", 0)),
                                      timeout=timeout)
    flood_out: list = []
    real_out: list = []
    start = loop.time() + 0.2
    flood_end = start + args.seconds
    try:
        async def flood() -> None:
            tasks = []
            for i in range(int(phase.rate * args.seconds)):
                at = start + i / phase.rate
                await asyncio.sleep(max(0.0, at - loop.time()))
                tasks.append(asyncio.create_task(send(sessions[i % len(sessions)], base, phase.flood(i), at,
                                                      phase.refusal, flood_out)))
            await asyncio.wait(tasks, timeout=args.seconds + args.max_drain)

        async def real() -> None:
            make, check = phase.real
            tasks = []
            for i in range(int(args.seconds + args.max_drain)):
                at = start + i
                if at >= flood_end + args.after and flooding.done():
                    break
                await asyncio.sleep(max(0.0, at - loop.time()))
                tasks.append(asyncio.create_task(send(real_http, base, make(i), at, check, real_out)))
            await asyncio.wait(tasks, timeout=args.max_drain)

        flooding = asyncio.create_task(flood())
        await asyncio.gather(flooding, real())
    finally:
        for http in (*sessions, real_http):
            await http.close()
    during = [(done - at) * 1000 for at, done, _ in real_out if at < flood_end]
    after = [(done - at) * 1000 for at, done, _ in real_out if at >= flood_end]
    flood_outcomes: dict[str, int] = {}
    for _, _, outcome in flood_out:
        flood_outcomes[outcome] = flood_outcomes.get(outcome, 0) + 1
    return {"phase": phase.name, "rate": phase.rate, "flood": int(phase.rate * args.seconds), "answered": len(flood_out),
            "refused": flood_outcomes.pop("ok", 0), "other": flood_outcomes,
            "last_after_end": max((done for _, done, _ in flood_out), default=flood_end) - flood_end,
            "during": during, "after": after, "real": len(real_out),
            "real_wrong": sum(1 for *_, outcome in real_out if outcome != "ok"),
            "real_outcomes": sorted({o for *_, o in real_out if o != "ok"})}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def table(rows: list[dict], args) -> str:
    lines = [f"floods of {args.seconds:.0f} s from {args.sources} addresses; a real login every second; "
             f"{os.cpu_count()} CPUs",
             f"{'phase':8}{'rate/s':>7}{'flood':>7}{'refused':>9}{'other':>16}{'last answer':>13}{'login during p50/p99':>23}"
             f"{'login after p50/p99':>22}{'real ok':>10}",
             f"{'':8}{'':7}{'':7}{'':9}{'':16}{'after end s':>13}{'ms':>23}{'ms':>22}"]
    for r in rows:
        other = ",".join(f"{k}:{v}" for k, v in sorted(r["other"].items())) or "-"
        lines.append(f"{r['phase']:8}{r['rate']:7.0f}{r['flood']:7d}{r['refused']:9d}{other:>16}{r['last_after_end']:13.2f}"
                     f"{pct(r['during'], .5):>12.0f} /{pct(r['during'], .99):>8.0f}"
                     f"{pct(r['after'], .5):>11.0f} /{pct(r['after'], .99):>8.0f}"
                     f"{r['real'] - r['real_wrong']:>6d}/{r['real']:<3d}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=50, help="wrong PIN texts per second")
    parser.add_argument("--api-rate", type=float, default=100, help="wrong API keys / client secrets per second")
    parser.add_argument("--seconds", type=float, default=30, help="how long the flood lasts")
    parser.add_argument("--after", type=float, default=10, help="real logins go on at least this long after it")
    parser.add_argument("--max-drain", type=float, default=180, help="give up waiting for the flood's answers")
    parser.add_argument("--contacts", type=int, default=20, help="real contacts and OAuth clients, taking turns")
    parser.add_argument("--sources", type=int, default=50, help="loopback addresses the flood comes from")
    parser.add_argument("--phases", default="sms,bearer,oauth")
    args = parser.parse_args()
    gateway = shutil.which("gateway", path=str(Path(sys.executable).parent)) or shutil.which("gateway")
    wanted = args.phases.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-argon2-") as tmp:
        work = Path(tmp)
        db, port = work / "gateway.sqlite3", free_port()
        phones, keys, clients = asyncio.run(seed(db, args.contacts, int(args.seconds + args.max_drain) + 2))
        config = work / "gateway.yaml"
        config.write_text(f"http: {{host: 127.0.0.1, port: {port}}}\ndatabase: {{url: \"sqlite:///{db}\"}}\n"
                          f"keywords: {HERE.parent / 'keywords.yaml'}\nlogging: {{level: WARNING}}\n"
                          "interface: {reply_budget: 1000000}\n")
        log = open(work / "daemon.log", "wb")
        daemon = subprocess.Popen([gateway, "serve", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        rows = []
        try:
            if wait_ready(f"http://127.0.0.1:{port}/readyz", daemon, timeout=30) is None:
                print("daemon did not start", file=sys.stderr)
                return 1
            phases = {"sms": sms_phase(phones, args.rate), "bearer": bearer_phase(keys, args.api_rate),
                      "oauth": oauth_phase(clients, args.api_rate)}
            for name in wanted:
                started = time.monotonic()
                rows.append(asyncio.run(run_phase(f"http://127.0.0.1:{port}", phases[name], args)))
                print(f"{name}: {time.monotonic() - started:.0f} s", file=sys.stderr)
        finally:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=60)
            log.close()
        print(table(rows, args))
        shed_lines = sum(1 for line in (work / "daemon.log").read_text().splitlines() if "shed" in line)
        print(f"daemon log: {shed_lines} lines about shed checks; SIGTERM exit {code}")
        wrong = [(r["phase"], r["real_outcomes"]) for r in rows if r["real_wrong"]]
        if wrong:
            print(f"real logins with a wrong answer: {wrong}")
        return 0 if code == 0 and not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
