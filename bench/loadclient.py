"""Load client for bench/inbound.py: runs in its own process, prints one JSON result on stdout.

Two modes, both POSTing loopback inbound texts (``{"from", "body", "message_id"}``):

* ``closed``: ``--concurrency`` workers, each sends its next message as soon as the last
  one is answered, until ``--count`` messages are done (throughput).
* ``open``: messages are started on a fixed schedule (``--rate`` per second for
  ``--seconds``), whether or not earlier ones are answered; latency is measured from the
  scheduled start, so a stalled server shows up as latency instead of as fewer sends.

The message mix comes from a plan file written by inbound.py: the phone numbers of contacts
with open verifications, a pool of unknown numbers, the shares of each kind (``mix``) and,
optionally, the bodies texts from unknown numbers carry (``unknown_bodies``, e.g. ``["HELP"]``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import time

import aiohttp

VERIFICATION_BODIES = ["YES", "NO", "Yes!", "yes.", "no", "asdf qwerty", "Y E S", "maybe later?"]
CHATTER_BODIES = ["hello", "who is this?", "I'm at work, call me later", "ok thanks",
                  "Is the alarm still going?", "please stop texting the old number"]
REQUEST_TIMEOUT = 10.0
HARD_LIMIT_SECONDS = 300.0  # no phase may run longer than this, whatever the arguments
HEADERS: dict[str, str] = {}  # --bearer-file: every request's Authorization


class Mix:
    """Picks (from, body) pairs: ~40% verification replies, ~30% chatter from contacts, ~30% unknown numbers."""

    def __init__(self, plan: dict, seed: int) -> None:
        self.rng = random.Random(seed)
        self.contacts = plan["contacts"]
        self.unknown = plan["unknown"]
        self.share_verify, self.share_chatter = plan.get("mix", [0.4, 0.3, 0.3])[:2]
        self.unknown_bodies = plan.get("unknown_bodies") or CHATTER_BODIES + ["YES", "STOP?"]
        self.kinds = {"verify": 0, "chatter": 0, "unknown": 0}

    def pick(self) -> tuple[str, str]:
        r = self.rng.random()
        if r < self.share_verify:
            self.kinds["verify"] += 1
            return self.rng.choice(self.contacts), self.rng.choice(VERIFICATION_BODIES)
        if r < self.share_verify + self.share_chatter:
            self.kinds["chatter"] += 1
            return self.rng.choice(self.contacts), self.rng.choice(CHATTER_BODIES)
        self.kinds["unknown"] += 1
        return self.rng.choice(self.unknown), self.rng.choice(self.unknown_bodies)


    def payload(self, prefix: str, i: int) -> dict:
        phone, body = self.pick()
        return {"from": phone, "body": body, "message_id": f"{prefix}-{i}"}


class EventMix:
    """Alarm events (``POST /ext/v1/events``) at the plan's sites in turn: burglary codes over the zones."""

    def __init__(self, plan: dict, seed: int) -> None:
        self.sites = plan["sites"]
        self.kinds = {"event": 0}

    def payload(self, prefix: str, i: int) -> dict:
        self.kinds["event"] += 1
        return {"site_id": self.sites[i % len(self.sites)], "event_id": f"{prefix}-{i}", "event_code": "BA",
                "zone": str(1 + i % 8), "text": "Storm zone"}


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


class Recorder:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.statuses: dict[str, int] = {}
        self.duplicates = 0
        self.first_error: str | None = None
        self.timeline: list[tuple[float, float]] = []  # (scheduled start, latency), open loop only

    def error(self, what: str) -> None:
        self.errors += 1
        self.statuses[what] = self.statuses.get(what, 0) + 1
        if self.first_error is None:
            self.first_error = what


async def send_one(http: aiohttp.ClientSession, url: str, payload: dict, rec: Recorder, started: float) -> None:
    try:
        async with http.post(url, json=payload) as resp:
            body = await resp.read()
            if resp.status not in (200, 201):
                rec.error(f"HTTP {resp.status}: {body[:200].decode(errors='replace')}")
                return
            if b'"duplicate": true' in body or b'"duplicate":true' in body:
                rec.duplicates += 1
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        rec.error(f"{type(exc).__name__}: {exc}"[:200])
        return
    latency = time.perf_counter() - started
    rec.latencies.append(latency)
    rec.timeline.append((started, latency))


async def closed_loop(urls: list[str], mix: Mix | EventMix, prefix: str, count: int, concurrency: int, rec: Recorder,
                      deadline: float) -> int:
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    sent = 0

    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=HEADERS) as http:
        async def worker() -> None:
            nonlocal sent
            while sent < count and time.monotonic() < deadline:
                i = sent
                sent += 1
                await send_one(http, urls[i % len(urls)], mix.payload(prefix, i), rec, time.perf_counter())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent


async def open_loop(urls: list[str], mix: Mix | EventMix, prefix: str, rate: float, seconds: float, rec: Recorder,
                    max_in_flight: int, deadline: float) -> tuple[int, int, float]:
    connector = aiohttp.TCPConnector(limit=max_in_flight)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    total = int(rate * seconds)
    tasks: set[asyncio.Task] = set()
    skipped = 0
    worst_lag = 0.0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=HEADERS) as http:
        t0 = time.perf_counter() + 0.05
        for i in range(total):
            if time.monotonic() > deadline:
                skipped += total - i
                break
            target = t0 + i / rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            worst_lag = max(worst_lag, time.perf_counter() - target)
            if len(tasks) >= max_in_flight:  # the server is far behind: count, do not pile up more
                skipped += 1
                rec.error("skipped: too many in flight")
                continue
            task = asyncio.create_task(send_one(http, urls[i % len(urls)], mix.payload(prefix, i), rec, target))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 1)
    return total - skipped, skipped, worst_lag


async def main_async(args: argparse.Namespace) -> dict:
    plan = json.loads(open(args.plan).read())
    mix = EventMix(plan, args.seed) if args.events else Mix(plan, args.seed)
    if args.bearer_file:
        HEADERS["Authorization"] = "Bearer " + open(args.bearer_file).read().strip()
    rec = Recorder()
    deadline = time.monotonic() + min(args.max_seconds, HARD_LIMIT_SECONDS)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    result: dict = {"mode": args.mode}
    if args.mode == "closed":
        sent = await closed_loop(args.url, mix, args.prefix, args.count, args.concurrency, rec, deadline)
        result.update(sent=sent, concurrency=args.concurrency)
    else:
        sent, skipped, lag = await open_loop(args.url, mix, args.prefix, args.rate, args.seconds, rec,
                                             args.max_in_flight, deadline)
        result.update(sent=sent, skipped=skipped, rate=args.rate, worst_schedule_lag_ms=round(lag * 1000, 3))
        if rec.timeline:  # latency by second of the schedule: shows a stall or a queue building up
            start = min(t for t, _ in rec.timeline)
            buckets: dict[int, list[float]] = {}
            for t, lat_ in rec.timeline:
                buckets.setdefault(int(t - start), []).append(lat_)
            result["by_second"] = [
                {"second": k, "n": len(v), "p50_ms": round(percentile(sorted(v), 0.5) * 1000, 2),
                 "p99_ms": round(percentile(sorted(v), 0.99) * 1000, 2), "max_ms": round(max(v) * 1000, 2)}
                for k, v in sorted(buckets.items())]
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    lat = sorted(rec.latencies)
    ms = lambda v: None if v is None else round(v * 1000, 3)  # noqa: E731
    result.update(
        ok=len(lat), errors=rec.errors, error_kinds=rec.statuses, first_error=rec.first_error,
        duplicates=rec.duplicates, elapsed_s=round(elapsed, 3),
        per_second=round(len(lat) / elapsed, 1) if elapsed > 0 else None,
        p50_ms=ms(percentile(lat, 0.50)), p90_ms=ms(percentile(lat, 0.90)), p99_ms=ms(percentile(lat, 0.99)),
        max_ms=ms(lat[-1] if lat else None), kinds=mix.kinds,
        client_cpu_pct=round(100 * cpu / elapsed, 1) if elapsed > 0 else None,
        client_maxrss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    )
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, action="append", help="full URL of the inbound endpoint; given more "
                   "than once, message i goes to the (i mod n)-th (round-robin over several daemons)")
    p.add_argument("--plan", required=True, help="JSON file: {contacts: [...], unknown: [...], mix: [v, c, u]}")
    p.add_argument("--mode", choices=["closed", "open"], default="closed")
    p.add_argument("--count", type=int, default=2000, help="closed: messages to send")
    p.add_argument("--concurrency", type=int, default=32, help="closed: requests in flight")
    p.add_argument("--rate", type=float, default=500.0, help="open: messages per second")
    p.add_argument("--seconds", type=float, default=10.0, help="open: how long")
    p.add_argument("--max-in-flight", type=int, default=512, help="open: beyond this, scheduled sends are skipped")
    p.add_argument("--prefix", default="bench", help="message_id prefix (ids are PREFIX-N)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--events", action="store_true", help="POST alarm events at the plan's sites instead of texts")
    p.add_argument("--bearer-file", help="a file holding the API key sent as 'Authorization: Bearer' on each request")
    p.add_argument("--max-seconds", type=float, default=120.0, help="stop sending after this long, whatever is left")
    args = p.parse_args()
    result = asyncio.run(main_async(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
