"""Several daemons on one PostgreSQL: alarm-event-to-carrier latency and outbox throughput with 1, 2 and 3.

    .venv/bin/python bench/cluster.py                  # 1, 2 and 3 daemons: about 1-2 minutes on 2 cores
    .venv/bin/python bench/cluster.py --daemons 1,2    # some of them
    .venv/bin/python bench/cluster.py --quick          # small sizes

Real ``gateway serve`` processes on 127.0.0.1 with the loopback carrier (``loopback_latency_seconds`` 0.02 per
send, the simulated network), all on one database created for the run on the PostgreSQL server at --server
(dropped at the end). The outbox polls only every 30 s here, so every pick-up is a wake-up (NOTIFY), as it is in
production between polls. For each number of daemons, on a fresh schema:

1. **Latency.** ``--alarms`` alarm events (1 contact each) posted one at a time, round-robin across the
   daemons, ``--gap`` seconds apart; for each, the time from the POST to the loopback carrier's ``sent_at``
   of its text: p50, p99, max.
2. **Throughput.** A burst of ``--burst`` alarms to a site of 50 contacts (50 texts each) posted
   round-robin; texts per second from the first POST to the last text handed to the carrier.

Exit 0 when every run completed, whatever the figures; 1 when one broke.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import secrets
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.clock import Clock, parse_isoformat  # noqa: E402
from gateway.model import Contact, Site  # noqa: E402
from gateway.stores import open_store  # noqa: E402
from tests.faults.harness import call, close_all, cluster, loopback_sent, phone, start_all, wait_until  # noqa: E402
from tests.postgres import admin, database_url  # noqa: E402

LATENCY = 0.02


def seed(url: str, burst_contacts: int) -> None:
    """``site_one`` with one contact (latency), ``site_burst`` with ``burst_contacts`` (throughput)."""

    async def run() -> None:
        store = open_store(url)
        await store.open()
        try:
            now = Clock().now()
            for site_id, contacts, first in (("site_one", 1, 9000), ("site_burst", burst_contacts, 0)):
                await store.add_site(Site(id=site_id, dealer_id="12345", name=site_id, time_zone="UTC",
                                          created_at=now))
                for n in range(contacts):
                    await store.add_contact(Contact(id=0, site_id=site_id, first_name=f"C{n}", last_name="Doe",
                                                    phone=phone(first + n), auto_notify=True, created_at=now))
        finally:
            await store.close()

    asyncio.run(run())


def _post(d, site: str, event_id: str) -> None:
    status, body = call(d, "POST", "/ext/v1/events", {"site_id": site, "event_code": "BA", "event_id": event_id,
                                                      "text": f"bench {event_id}"})
    if status != 201:
        raise RuntimeError(f"{event_id}: {status} {body}")


def _sent_by_event(d) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for row in loopback_sent(d):
        event = row["body"].split("bench ", 1)[1].split()[0]
        times.setdefault(event, []).append(parse_isoformat(row["sent_at"]).timestamp())
    return times


def one_run(tmp: Path, url: str, count: int, *, alarms: int, gap: float, burst: int, contacts: int) -> dict:
    daemons = cluster(tmp, url, count, carrier={"loopback_latency_seconds": LATENCY},
                      outbox={"poll_seconds": 30.0})
    try:
        seed(url, contacts)
        start_all(daemons)
        time.sleep(0.5)
        posted: dict[str, float] = {}
        for n in range(alarms):
            event_id = f"lat{n}"
            posted[event_id] = time.time()
            _post(daemons[n % count], "site_one", event_id)
            time.sleep(gap)
        sent = wait_until(lambda: (s := _sent_by_event(daemons[0])) and len(s) >= alarms and s,
                          "every latency text sent", 60)
        latencies = sorted((min(sent[e]) - posted[e]) * 1000 for e in posted)
        started = time.time()
        with concurrent.futures.ThreadPoolExecutor(count * 2) as pool:
            list(pool.map(lambda n: _post(daemons[n % count], "site_burst", f"burst{n}"), range(burst)))
        texts = burst * contacts

        def done():
            s = _sent_by_event(daemons[0])
            return s if sum(len(v) for k, v in s.items() if k.startswith("burst")) >= texts else None

        sent = wait_until(done, f"{texts} burst texts sent", 300)
        last = max(max(v) for k, v in sent.items() if k.startswith("burst"))
        for d in daemons:
            if d.stop() != 0:
                raise RuntimeError(f"a daemon did not exit 0; log:\n{d.log.read_text()[-2000:]}")
    finally:
        close_all(daemons)
    return {"daemons": count, "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], "max_ms": latencies[-1],
            "texts": texts, "texts_per_second": texts / (last - started)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--daemons", default="1,2,3")
    parser.add_argument("--alarms", type=int, default=100)
    parser.add_argument("--gap", type=float, default=0.05)
    parser.add_argument("--burst", type=int, default=40)
    parser.add_argument("--contacts", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="30 latency alarms, a burst of 10 x 50 texts")
    args = parser.parse_args(argv)
    if args.quick:
        args.alarms, args.burst = 30, 10
    name = "gw_bench_" + secrets.token_hex(4)
    admin(f"CREATE DATABASE {name}")
    failed = False
    print(f"{'daemons':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'texts':>6} {'texts/s':>8}")
    try:
        for count in (int(c) for c in args.daemons.split(",")):
            schema = "b_" + secrets.token_hex(4)
            admin(f"CREATE SCHEMA {schema}", database_url(name))
            try:
                with tempfile.TemporaryDirectory(prefix="gateway-cluster-") as tmp:
                    r = one_run(Path(tmp), database_url(name, schema), count, alarms=args.alarms, gap=args.gap,
                                burst=args.burst, contacts=args.contacts)
                print(f"{r['daemons']:>7} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['max_ms']:>8.1f} "
                      f"{r['texts']:>6} {r['texts_per_second']:>8.0f}", flush=True)
            except Exception:
                failed = True
                print(f"{count:>7} broke:\n{traceback.format_exc()}", flush=True)
    finally:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
