"""Alarm storm: thousands of alarm events while contacts answer, through a paced carrier, then an urgent alarm
behind a long queue of low-priority notices (see bench/README.md).

    .venv/bin/python bench/storm.py            # 2,000 sites x 2 contacts, 6,000 events at 200/s, about 2.5 minutes
    .venv/bin/python bench/storm.py --quick    # smoke run, about 20 s
    .venv/bin/python bench/storm.py --pin --json storm.json

1. Seeds ``--sites`` sites with ``--contacts-per-site`` auto-notify contacts through the store (before the
   daemon starts), then starts ``gateway serve`` with the loopback carrier paced at ``--pace`` segments/s.
2. Storm: one load-client process posts ``--events`` alarm events through ``POST /ext/v1/events`` at
   ``--event-rate``/s (open loop) while another posts contacts' replies (YES/NO/garbage) at ``--reply-rate``/s
   to the loopback inbound webhook; the outbox depth is sampled every 0.5 s until it drains.
3. Priority: ``--notices`` low-priority notices are queued at once, then one alarm event is posted; how many
   sends went out between its verification being committed and its first text (aim: at most max_in_flight).

Printed: event intake p50/p99, event to first text handed to the carrier p50/p99/max, the outbox depth over
time, the drain rate against the pace (aim within 2%), the urgent alarm's wait, start-up and peak RSS by phase.
Exit status: 0 when the run completed (whatever the figures), 1 when something broke.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from harness import HERE, PY, BenchError, Daemon, exit_status, gateway_script, keep_or_remove, http_json, on_cpu, peak_mb

AIMS = {"ready_s": 2.0, "rss_mb": 80.0, "pace_error": 0.02}


def pct(values: list[float], q: float) -> float | None:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else None


async def seed_store(url: str, sites: int, per_site: int) -> tuple[list[str], list[str]]:
    """Sites and auto-notify contacts through the store, many at once so they share group commits."""
    sys.path.insert(0, str(HERE.parent))
    from gateway.clock import Clock
    from gateway.model import Contact, Site
    from gateway.stores import open_store

    clock = Clock()
    store = open_store(url, clock=clock)
    await store.open()
    try:
        site_ids = [f"storm_site_{n}" for n in range(sites)]
        phones = [f"+1555{4000000 + n * 10 + j:07d}" for n in range(sites) for j in range(per_site)]
        for start in range(0, sites, 200):
            await asyncio.gather(*(store.add_site(Site(id=s, dealer_id="storm", name=f"Storm site {s[11:]}",
                                                       created_at=clock.now())) for s in site_ids[start:start + 200]))
            await asyncio.gather(*(store.add_contact(Contact(
                id=0, site_id=site_ids[n], first_name=f"C{j}", last_name=f"Site{n}",
                phone=phones[n * per_site + j], auto_notify=True, created_at=clock.now()))
                for n in range(start, min(sites, start + 200)) for j in range(per_site)))
    finally:
        await store.close()
    return site_ids, phones


async def queue_notices(url: str, phones: list[str], count: int) -> None:
    sys.path.insert(0, str(HERE.parent))
    from gateway.model import PRIORITY_NOTICE, Decision, OutboundMessage
    from gateway.stores import open_store

    store = open_store(url)
    await store.open()
    try:
        await store.commit(Decision(outbound=[OutboundMessage(
            to_phone=phones[i % len(phones)], body=f"Storm notice {i}: the monthly test is due.", kind="notice",
            priority=PRIORITY_NOTICE) for i in range(count)]))
    finally:
        await store.close()


class Outbox:
    """Read-only looks at the daemon's SQLite file (WAL: never in the daemon's way)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.lock = threading.Lock()

    def one(self, sql: str, *params) -> tuple:
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, *params) -> list[tuple]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def depth(self) -> int:
        return self.one("SELECT count(*) FROM outbound_messages WHERE status IN ('queued', 'sending')")[0]

    def last_send(self) -> int:
        return self.one("SELECT coalesce(max(id), 0) FROM loopback_messages")[0]


class DepthSampler:
    def __init__(self, outbox: Outbox, interval: float = 0.5) -> None:
        self.outbox, self.interval = outbox, interval
        self.samples: list[tuple[float, int]] = []
        self.t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="depth", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.samples.append((time.monotonic() - self.t0, self.outbox.depth()))
            except sqlite3.Error:
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def start_client(url: str, plan: Path, out: Path, *, rate: float, seconds: float, prefix: str, cpu: int | None,
                 extra: list[str]) -> subprocess.Popen:
    cmd = [PY, str(HERE / "loadclient.py"), "--url", url, "--plan", str(plan), "--mode", "open", "--rate", str(rate),
           "--seconds", str(seconds), "--prefix", prefix, "--max-seconds", str(seconds + 60), *extra]
    return subprocess.Popen(cmd, stdout=open(out, "w"), stderr=subprocess.PIPE, text=True, preexec_fn=on_cpu(cpu))


def finish_client(proc: subprocess.Popen, out: Path, timeout: float) -> dict:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise BenchError(f"a load client ran past {timeout:.0f} s") from None
    if proc.returncode != 0:
        raise BenchError(f"load client failed ({proc.returncode}): {err.strip()[-2000:]}")
    return json.loads(out.read_text())


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def rate_of(sends: list[tuple[str, int]]) -> dict | None:
    """Texts, segments and segments per second of (sent_at, segments) rows in send order."""
    if len(sends) < 2:
        return None
    span = (when(sends[-1][0]) - when(sends[0][0])).total_seconds()
    segments = sum(n for _, n in sends[1:])  # the first send opens the span; the rest fill it
    return {"texts": len(sends), "segments": segments + sends[0][1], "seconds": round(span, 3),
            "segments_per_second": round(segments / span, 2) if span > 0 else None}


def storm(args: argparse.Namespace, d: Daemon, outbox: Outbox, sites: list[str], phones: list[str],
          workdir: Path, log) -> dict:
    events_plan = workdir / "events.json"
    events_plan.write_text(json.dumps({"sites": sites}))
    replies_plan = workdir / "replies.json"
    replies_plan.write_text(json.dumps({"contacts": phones, "unknown": phones[:1], "mix": [1.0, 0.0, 0.0]}))
    key_file = workdir / "key"
    key_file.write_text(d.operator_key())
    seconds = args.events / args.event_rate
    sampler = DepthSampler(outbox)
    first_send = outbox.last_send()
    d.rss.phase = "storm"
    events = start_client(d.base + "/ext/v1/events", events_plan, workdir / "events.out", rate=args.event_rate,
                          seconds=seconds, prefix="storm", cpu=args.client_cpu,
                          extra=["--events", "--bearer-file", str(key_file)])
    replies = start_client(d.base + "/carriers/loopback/inbound", replies_plan, workdir / "replies.out",
                           rate=args.reply_rate, seconds=seconds, prefix="reply", cpu=args.client_cpu, extra=[])
    ev = finish_client(events, workdir / "events.out", seconds + 120)
    rp = finish_client(replies, workdir / "replies.out", seconds + 120)
    intake_end = datetime.now(timezone.utc)  # the daemon's clock is this machine's: its sends compare with it
    log(f"events: {ev['ok']} ok / {ev['errors']} errors at {args.event_rate:g}/s, intake p50 {ev['p50_ms']} ms, "
        f"p99 {ev['p99_ms']} ms; replies: {rp['ok']} ok / {rp['errors']} errors, p99 {rp['p99_ms']} ms")
    d.rss.phase = "drain"
    deadline = time.monotonic() + args.drain_timeout
    while outbox.depth() and time.monotonic() < deadline:
        time.sleep(0.5)
    sampler.stop()
    left = outbox.depth()
    rows = outbox.all(
        "SELECT a.received_at, min(l.sent_at) FROM alarm_events a JOIN verifications v ON v.event_id = a.id "
        "JOIN outbound_messages o ON o.verification_id = v.id JOIN loopback_messages l ON l.outbound_id = o.id "
        "WHERE a.id LIKE 'storm-%' GROUP BY a.id")
    to_first = [(when(sent) - when(received)).total_seconds() for received, sent in rows]
    sends = outbox.all("SELECT l.sent_at, o.segments FROM loopback_messages l JOIN outbound_messages o "
                       "ON o.id = l.outbound_id WHERE l.id > ? ORDER BY l.id", first_send)
    drain = rate_of(sends)
    if drain:  # once the intake stopped, the sender has the core to itself: the carrier's pace is the bound
        drain["after_intake"] = rate_of([row for row in sends if when(row[0]) > intake_end])
    depth = [(round(t, 1), n) for t, n in sampler.samples]
    return {"events": ev, "replies": rp, "events_with_text": len(rows), "left_queued": left,
            "to_first_text_s": {"p50": pct(to_first, 0.5), "p99": pct(to_first, 0.99),
                                "max": max(to_first) if to_first else None},
            "drain": drain, "depth": depth}


def priority(args: argparse.Namespace, d: Daemon, outbox: Outbox, sites: list[str], phones: list[str], log) -> dict:
    """Notices queued at once, then one alarm: the sends that went out before its first text."""
    d.rss.phase = "priority"
    asyncio.run(queue_notices(d.database_url, phones, args.notices))
    deadline = time.monotonic() + 30
    start = outbox.last_send()
    while outbox.last_send() < start + args.max_in_flight and time.monotonic() < deadline:
        time.sleep(0.05)  # the sender is busy with the notices
    status, body = http_json("POST", d.base + "/ext/v1/events", {
        "site_id": sites[0], "event_id": "urgent-1", "event_code": "BA", "zone": "1", "text": "Urgent"},
        headers={"Authorization": f"Bearer {d.operator_key()}"})
    if status != 201:
        raise BenchError(f"the urgent alarm was answered {status}: {body}")
    committed = outbox.last_send()
    verification = body["data"]["verifications"][0]["verification_id"]
    first = None
    deadline = time.monotonic() + 30
    while first is None and time.monotonic() < deadline:
        first = outbox.one("SELECT min(l.id) FROM loopback_messages l JOIN outbound_messages o ON o.id = l.outbound_id "
                           "WHERE o.verification_id = ?", verification)[0]
        time.sleep(0.02)
    if first is None:
        raise BenchError("the urgent alarm's text did not go out within 30 s")
    waited = outbox.one("SELECT count(*) FROM loopback_messages WHERE id > ? AND id < ?", committed, first)[0]
    queued = outbox.one("SELECT count(*) FROM outbound_messages WHERE kind = 'notice' AND status = 'queued'")[0]
    log(f"urgent alarm behind {args.notices} notices ({queued} still queued when it went): {waited} sends before "
        f"its first text (max_in_flight {args.max_in_flight})")
    return {"notices": args.notices, "notices_still_queued": queued, "sends_before_urgent": waited,
            "max_in_flight": args.max_in_flight}


def run(args: argparse.Namespace, workdir: Path, log) -> dict:
    db = workdir / "daemon" / "gateway.sqlite3"
    url = f"sqlite:///{db}"
    t0 = time.monotonic()
    (workdir / "daemon").mkdir()
    sites, phones = asyncio.run(seed_store(url, args.sites, args.contacts_per_site))
    log(f"seeded {len(sites)} sites, {len(phones)} contacts in {time.monotonic() - t0:.1f} s")
    extra = (f"carrier: {{loopback: {{max_per_second: {args.pace}}}}}\n"
             f"outbox: {{max_in_flight: {args.max_in_flight}, poll_seconds: 0.2}}\n")
    d = Daemon(gateway_script(args.gateway), workdir / "daemon", url, keywords=args.keywords, extra_config=extra,
               cpu=args.daemon_cpu)
    res: dict = {"params": {k: v for k, v in vars(args).items() if k != "json"}}
    try:
        res["startup"] = d.wait_started()
        log(f"daemon pid {d.pid}: READY=1 after {res['startup']['ready_notify_s']} s")
        outbox = Outbox(db)
        res["storm"] = storm(args, d, outbox, sites, phones, workdir, log)
        res["priority"] = priority(args, d, outbox, sites, phones, log)
        res["memory"] = d.memory()
    finally:
        res["shutdown"] = d.stop()
    res["log_errors"] = d.log_errors()[0]
    return res


def report(r: dict, args: argparse.Namespace) -> str:
    s, p = r["storm"], r["priority"]
    ev, rp, tf, dr = s["events"], s["replies"], s["to_first_text_s"], s["drain"]
    after = dr.get("after_intake") if dr else None
    rate = after["segments_per_second"] if after else None
    off = abs(rate - args.pace) / args.pace if rate else None
    lines = [
        f"start-up READY=1            {r['startup']['ready_notify_s']} s (aim < {AIMS['ready_s']:g} s)",
        f"events posted               {ev['ok']} ok, {ev['errors']} errors at {args.event_rate:g}/s "
        f"({ev['per_second']}/s achieved)",
        f"  intake p50 / p99          {ev['p50_ms']} / {ev['p99_ms']} ms",
        f"replies posted              {rp['ok']} ok, {rp['errors']} errors at {args.reply_rate:g}/s, "
        f"p50 / p99 {rp['p50_ms']} / {rp['p99_ms']} ms",
        f"event to first text         p50 {tf['p50']:.2f} s, p99 {tf['p99']:.2f} s, max {tf['max']:.2f} s "
        f"({s['events_with_text']} events texted)" if tf["p50"] is not None else "event to first text         -",
        f"sent                        {dr['texts']} texts, {dr['segments']} segments in {dr['seconds']} s: "
        f"{dr['segments_per_second']} segments/s, intake and sends sharing the daemon" if dr else
        "sent                        -",
        f"drain after the intake      {after['segments']} segments in {after['seconds']} s: {rate} segments/s "
        f"against a pace of {args.pace:g} ({100 * off:.2f}% off; aim within {100 * AIMS['pace_error']:g}%)"
        if rate else "drain after the intake      -",
        f"  left queued after drain   {s['left_queued']}",
        "outbox depth (s: queued)    " + "  ".join(f"{t:g}:{n}" for t, n in s["depth"][::max(1, len(s['depth']) // 24)]),
        f"urgent alarm                {p['sends_before_urgent']} sends before its first text behind {p['notices']} "
        f"notices (aim <= max_in_flight {p['max_in_flight']})",
        f"daemon peak RSS             {peak_mb(r['memory']):.1f} MB (aim < {AIMS['rss_mb']:g} MB); by phase MB: "
        + ", ".join(f"{k} {v / 1024:.1f}" for k, v in r["memory"]["vmrss_peak_by_phase_kb"].items()),
        f"shutdown                    exit {r['shutdown']['exit_code']} in {r['shutdown']['seconds']} s; "
        f"{r['log_errors']} ERROR lines in the daemon log",
    ]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: 20 sites, 100 events, 300 notices")
    p.add_argument("--sites", type=int, help="sites (default 2000; quick 20)")
    p.add_argument("--contacts-per-site", type=int, default=2)
    p.add_argument("--events", type=int, help="alarm events (default 6000; quick 100)")
    p.add_argument("--event-rate", type=float, help="events per second (default 200; quick 50)")
    p.add_argument("--reply-rate", type=float, help="contacts' replies per second (default 100; quick 25)")
    p.add_argument("--pace", type=float, help="the loopback carrier's segments per second (default 200; quick 100)")
    p.add_argument("--max-in-flight", type=int, default=8, help="outbox.max_in_flight (default 8)")
    p.add_argument("--notices", type=int, help="low-priority notices before the urgent alarm (default 10000; "
                   "quick 300)")
    p.add_argument("--drain-timeout", type=float, default=240.0, help="longest wait for the outbox to drain")
    p.add_argument("--pin", action="store_true", help="daemon on CPU 0, load clients on CPU 1")
    p.add_argument("--keywords", default=str(HERE.parent / "keywords.yaml"))
    p.add_argument("--gateway", help="path of the `gateway` console script (default: beside this Python)")
    p.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = p.parse_args()
    q = args.quick
    for name, full, quick in (("sites", 2000, 20), ("events", 6000, 100), ("event_rate", 200.0, 50.0),
                              ("reply_rate", 100.0, 25.0), ("pace", 200.0, 100.0), ("notices", 10000, 300)):
        if getattr(args, name) is None:
            setattr(args, name, quick if q else full)
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if args.pin and len(os.sched_getaffinity(0) & {0, 1}) < 2:
        p.error("--pin needs CPUs 0 and 1")
    args.daemon_cpu, args.client_cpu = (0, 1) if args.pin else (None, None)

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="gwstorm-"))
    try:
        results = run(args, workdir, log)
    except (BenchError, subprocess.SubprocessError, OSError, sqlite3.Error) as exc:
        print(f"benchmark broke: {exc} (kept {workdir})", file=sys.stderr)
        return 1
    print()
    print(report(results, args))
    keep_or_remove(results, args.json, args.keep, workdir)
    broken = [f"{k}: {results['storm'][k]['errors']} errors" for k in ("events", "replies")
              if results["storm"][k]["errors"] > 0.01 * max(1, results["storm"][k]["sent"])]
    if results["shutdown"]["exit_code"] != 0:
        broken.append(f"daemon exit status {results['shutdown']['exit_code']} after SIGTERM")
    return exit_status(broken)


if __name__ == "__main__":
    sys.exit(main())
