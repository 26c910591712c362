"""Drain a burst of verification texts through the Twilio carrier into the fake Twilio, and measure the pace.

    .venv/bin/python bench/outbound.py                       # 5,000 texts at 100 msg/s
    .venv/bin/python bench/outbound.py --count 500 --rate 50 --reports

The real daemon application (create_app, sender loop, SQLite with synchronous=FULL) sends
through the real twilio client to tests/fake_twilio.py on 127.0.0.1; the fake stamps each
message as it arrives. Printed: achieved rate, inter-send gaps (p50/p99/max), per-second
counts (min/max over full seconds), and the outbox's drain time. Exit 0 when every text
arrived, whatever the figures; 1 when the run did not complete in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import msgspec
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.config import Config, Database, Http, Outbox  # noqa: E402
from gateway.model import PRIORITY_VERIFICATION, Decision, OutboundMessage  # noqa: E402
from gateway.web.app import create_app  # noqa: E402
from gateway.web.appkeys import SENDER, STORE  # noqa: E402
from tests.fake_twilio import FakeTwilio, twilio_carrier_config  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace, folder: Path) -> dict:
    fake = await FakeTwilio().start()
    if args.reports:
        fake.auto_reports = ("sent", "delivered")
    port = free_port()
    config = Config(http=Http(port=port, public_url=f"http://127.0.0.1:{port}"),
                    database=Database(url=f"sqlite:///{folder}/gateway.sqlite3"),
                    keywords=str(ROOT / "keywords.yaml"),
                    outbox=Outbox(poll_seconds=0.2, max_in_flight=args.in_flight))
    config = msgspec.structs.replace(config, carrier=twilio_carrier_config(fake, max_per_second=args.rate))
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.deliver_to = f"http://127.0.0.1:{port}"
    try:
        store = app[STORE]
        texts = [OutboundMessage(to_phone=f"+1555{i:07d}", body=f"ALARM at Site {i}: Burglary zone 3. Reply YES or NO.",
                                 kind="verification", priority=PRIORITY_VERIFICATION, from_phone=config.carrier.from_number)
                 for i in range(args.count)]
        queued = time.monotonic()
        for start in range(0, args.count, 500):
            await store.commit(Decision(outbound=texts[start:start + 500]))
        app[SENDER].wake()
        deadline = queued + args.count / args.rate * 3 + 30
        while len(fake.received) < args.count and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        drained = time.monotonic()
        while await store.outbox_depth() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        depth_zero = time.monotonic()
        if args.reports:
            while fake._tasks and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
        await fake.stop()
    times = [r.at for r in fake.received]
    gaps = [b - a for a, b in zip(times, times[1:])]
    seconds = int(times[-1] - times[0]) if times else 0
    per_second = [0] * max(seconds, 1)
    for at in times:
        index = int(at - times[0])
        if index < seconds:
            per_second[index] += 1
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    return {
        "count": args.count, "received": len(times), "configured_rate": args.rate, "in_flight": args.in_flight,
        "achieved_rate": round((len(times) - 1) / span, 2) if len(times) > 1 else None,
        "span_seconds": round(span, 3),
        "gap_ms": {"p50": round(percentile(gaps, 0.5) * 1000, 2), "p99": round(percentile(gaps, 0.99) * 1000, 2),
                   "max": round(max(gaps) * 1000, 2), "mean": round(statistics.fmean(gaps) * 1000, 2)} if gaps else {},
        "per_second": {"full_seconds": seconds, "min": min(per_second), "max": max(per_second)},
        "queued_to_last_arrival_seconds": round(drained - queued, 3),
        "queued_to_outbox_empty_seconds": round(depth_zero - queued, 3),
        "refused_by_fake": fake.refused,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=100.0, help="carrier.twilio.max_per_second (segments/s)")
    parser.add_argument("--in-flight", type=int, default=8, help="outbox.max_in_flight")
    parser.add_argument("--reports", action="store_true", help="the fake also calls back 'sent' and 'delivered'")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-outbound-") as folder:
        figures = asyncio.run(run(args, Path(folder)))
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if figures["received"] == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
