"""Inbound-text benchmark of the alarm SMS gateway (see bench/README.md).

Starts ``gateway serve`` on a fresh SQLite file (or the empty database ``--database`` names)
and a free loopback port, seeds sites,
contacts and open verifications, then drives ``POST /carriers/loopback/inbound`` from a
separate load-client process: closed-loop throughput against the gateway and against a
bare aiohttp handler, then an open-loop steady rate. Reports start-up time (HTTP and
sd_notify READY=1), messages/s, latency percentiles, the daemon's memory and its shutdown.

    .venv/bin/python bench/inbound.py            # full run, about a minute
    .venv/bin/python bench/inbound.py --quick    # smoke run, about 10 s
    .venv/bin/python bench/inbound.py --json out.json --py-spy /tmp/profile.svg
    .venv/bin/python bench/inbound.py --quick --database postgresql://postgres@127.0.0.1:5432/gw_bench
    .venv/bin/python bench/inbound.py --pin --postgres postgresql://postgres@127.0.0.1:5432/postgres
        # also 1 and 2 PostgreSQL daemons: SQLite, PostgreSQL, 2 PostgreSQL and bare as ratios in one run

Exit status: 0 when the run completed (whatever the figures), 1 when something broke:
the daemon did not start or died, seeding failed, or more than 1% of requests failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import (  # noqa: E402 - bench/ is on sys.path when a script in it runs
    HERE, PY, BenchError, Daemon, PySpy, RssMonitor, context_switches, count_rows, cpu_seconds, exit_status,
    filesystem_of, free_port, gateway_script, git_describe, http_json, keep_or_remove, on_cpu, peak_mb, run_client, run_seed,
    wait_ready,
)

AIMS = {"ready_s": 2.0, "ratio": 0.40, "steady_p99_ms": 10.0, "rss_mb": 80.0, "postgres_to_sqlite": 0.80}
MAX_ERROR_RATE = 0.01


CHATTER_MIX = [0.4, 0.3, 0.3]  # verification replies, chatter from contacts, texts from unknown numbers
HELP_MIX = [0.0, 0.0, 1.0]  # every text HELP from an unknown number


def seed(d: Daemon, args: argparse.Namespace, log) -> tuple[list[str], dict]:
    """Sites and contacts through the CLI, then alarm events over HTTP; waits until their texts are sent."""
    t0 = time.monotonic()
    cfg = ["-c", str(d.config)]
    sites = [r["out"].split("\t")[0] for r in run_seed(
        [["site", "add", *cfg, "--dealer", "bench", "--name", f"Bench site {i}"] for i in range(args.sites)])]
    phones, commands = [], []
    for i, site in enumerate(sites):
        for j in range(args.contacts_per_site):
            phone = f"+1555{1000000 + i * 100 + j:07d}"
            phones.append(phone)
            commands.append(["contact", "add", *cfg, "--site", site, "--first-name", f"C{j}",
                             "--last-name", f"Site{i}", "--phone", phone, "--auto-notify"])
    run_seed(commands)
    key = d.operator_key()
    texts_expected = verifications = 0

    def post_event(n: int) -> tuple[int, dict | None]:
        site = sites[n % len(sites)]
        return http_json("POST", d.base + "/ext/v1/events", {
            "site_id": site, "event_id": f"bench-ev-{n}", "event_code": "BA", "zone": str(1 + n % 8),
            "text": "Front door"}, headers={"Authorization": f"Bearer {key}"})

    with ThreadPoolExecutor(4) as pool:
        for status, body in pool.map(post_event, range(len(sites) * args.events_per_site)):
            if status != 201:
                raise BenchError(f"POST /ext/v1/events answered {status}: {body}")
            for v in body["data"]["verifications"]:
                verifications += 1
                texts_expected += len(v["sent_to"])
    # let the outbox sender finish the verification texts so they do not overlap the load
    sent = 0
    drain_deadline = time.monotonic() + 30
    while time.monotonic() < drain_deadline:
        sent, after = 0, 0
        for _ in range(50):
            status, body = http_json("GET", f"{d.base}/carriers/loopback/outbox?after={after}&limit=1000")
            page = (body or {}).get("messages") or []
            sent += len(page)
            if status != 200 or len(page) < 1000:
                break
            after = page[-1]["id"]
        if sent >= texts_expected:
            break
        time.sleep(0.1)
    log(f"seeded {len(sites)} sites, {len(phones)} contacts, {verifications} open verifications, "
        f"{sent}/{texts_expected} texts sent in {time.monotonic() - t0:.1f} s")
    return phones, {"sites": len(sites), "contacts": len(phones), "events": len(sites) * args.events_per_site,
                    "verifications": verifications, "texts_sent": sent, "texts_expected": texts_expected,
                    "seconds": round(time.monotonic() - t0, 2)}


def write_plans(workdir: Path, phones: list[str]) -> dict[str, Path]:
    unknown = [f"+1555{2000000 + k:07d}" for k in range(5000)]
    plans = {}
    for name, mix, bodies in (("mix", CHATTER_MIX, None), ("help", HELP_MIX, ["HELP"])):
        plans[name] = workdir / f"plan-{name}.json"
        plans[name].write_text(json.dumps({"contacts": phones, "mix": mix, "unknown": unknown,
                                           **({"unknown_bodies": bodies} if bodies else {})}))
    return plans


def closed_phases(url: str | list[str], pid: int | list[int], plans: dict[str, Path], args: argparse.Namespace,
                  tag: str, log, rss: RssMonitor | None = None) -> dict[str, dict]:
    """The closed loop with the chatter mix, then with HELP from unknown numbers, against one server (or
    several, round-robin: ``url`` and ``pid`` lists, their CPU summed)."""
    out = {}
    pids = [pid] if isinstance(pid, int) else pid
    for name, plan in plans.items():
        if rss is not None:
            rss.phase = f"closed-{name}"
        if args.warmup:
            run_client(url, plan, mode="closed", prefix=f"warm-{name}", count=args.warmup,
                       concurrency=args.concurrency, cpu=args.client_cpu)
        cpu0, switches0 = _summed(cpu_seconds, pids), _summed(context_switches, pids)
        r = run_client(url, plan, mode="closed", prefix=f"load-{name}", count=args.messages,
                       concurrency=args.concurrency, max_seconds=args.max_phase_seconds, cpu=args.client_cpu)
        cpu1, switches1 = _summed(cpu_seconds, pids), _summed(context_switches, pids)
        r["server_cpu_pct"] = round(100 * (cpu1 - cpu0) / r["elapsed_s"], 1) if cpu0 is not None and cpu1 else None
        r["server_cpu_us_per_text"] = round(1e6 * (cpu1 - cpu0) / r["ok"]) if r["ok"] and cpu1 else None
        r["context_switches_per_text"] = round((switches1 - switches0) / r["ok"], 2) \
            if r["ok"] and switches0 is not None and switches1 is not None else None
        out[name] = r
        log(f"{tag} {name}: {r['ok']} ok / {r['errors']} errors, {r['per_second']} msg/s, p50 {r['p50_ms']} ms, "
            f"p99 {r['p99_ms']} ms, server CPU {r['server_cpu_pct']}% ({r['server_cpu_us_per_text']} us and "
            f"{r['context_switches_per_text']} context switches per text)")
    return out


def _summed(figure, pids: list[int]):
    values = [figure(p) for p in pids]
    return None if any(v is None for v in values) else sum(values)


def ratio(a: dict, b: dict) -> float | None:
    return round(a["per_second"] / b["per_second"], 3) if a["per_second"] and b["per_second"] else None


def gateway_run(args: argparse.Namespace, workdir: Path, database_url: str, tag: str, log, *,
                steady: bool, spy_out: str | None = None, daemons: int = 1) -> dict:
    """``daemons`` daemons on ``database_url`` (more than one: PostgreSQL, each on the daemon CPU when pinned,
    the load client sending round-robin): start-up, seeding, both closed loops, the steady rate, memory,
    SIGTERM, and the durability check. Start-up and memory are the first daemon's."""
    res: dict = {"database": "postgresql" if database_url.startswith("postgres") else "sqlite", "daemons": daemons}
    started: list[Daemon] = []
    spy = None
    try:
        for k in range(daemons):  # one after the other: the first migrates the database
            started.append(Daemon(gateway_script(args.gateway), workdir / f"daemon{k}" if k else workdir, database_url,
                                  keywords=args.keywords, log_level=args.log_level, cpu=args.daemon_cpu))
            s = started[-1].wait_started()
            res.setdefault("startup", s)
            ready = "never" if s["ready_notify_s"] is None else f"{s['ready_notify_s']:.3f} s"
            log(f"{tag}: daemon pid {started[-1].pid} on {started[-1].base}: /readyz 200 after "
                f"{s['ready_http_s']:.3f} s, READY=1 after {ready}")
        d = started[0]
        if args.pid_file:
            Path(args.pid_file).write_text(f"{d.pid}\n")
        d.rss.phase = "seed"
        phones, res["seed"] = seed(d, args, log)
        plans = write_plans(workdir, phones)
        spy = PySpy(d.pid, spy_out, args.py_spy_rate, args.py_spy_opts.split() or None) if spy_out else None
        urls = [x.base + "/carriers/loopback/inbound" for x in started]
        res["closed"] = closed_phases(urls, [x.pid for x in started], plans, args, tag, log, d.rss)
        answered = sum(r["ok"] for r in res["closed"].values()) + len(plans) * (args.warmup or 0)
        if steady:
            d.rss.phase = "steady"
            cpu0 = cpu_seconds(d.pid)
            st = run_client(urls, plans["mix"], mode="open", prefix="steady",
                            rate=args.rate, seconds=args.steady_seconds, max_seconds=args.steady_seconds + 30,
                            cpu=args.client_cpu)
            cpu1 = cpu_seconds(d.pid)
            st["server_cpu_pct"] = round(100 * (cpu1 - cpu0) / st["elapsed_s"], 1) if cpu0 is not None and cpu1 \
                else None
            res["steady"] = st
            answered += st["ok"]
            log(f"{tag} steady: {st['ok']} ok / {st['errors']} errors at {args.rate:g}/s, p50 {st['p50_ms']} ms, "
                f"p99 {st['p99_ms']} ms")
            if st.get("by_second"):
                log(f"{tag} steady p50/p99 ms by second: " + "  ".join(
                    f"{b['p50_ms']:.1f}/{b['p99_ms']:.1f}" for b in st["by_second"]))
        if spy:
            res["py_spy"] = {"output": spy_out, "said": spy.stop()}
            spy = None
        d.rss.phase = "end"
        res["memory"] = d.memory()
        log(f"{tag}: peak RSS {peak_mb(res['memory']):.1f} MB; by phase (MB) " + ", ".join(
            f"{k} {v / 1024:.1f}" for k, v in res["memory"]["vmrss_peak_by_phase_kb"].items()))
    finally:
        if spy is not None:
            spy.stop()
        stops = [x.stop() for x in started]
        worst = max(stops, key=lambda sh: (sh["exit_code"] != 0, sh["seconds"]), default=None)
        res["shutdown"] = sh = worst or {"exit_code": None, "seconds": 0.0, "stopping_notified": False}
        log(f"{tag}: SIGTERM -> exit {sh['exit_code']} in {sh['seconds']:.3f} s"
            f"{', STOPPING=1 seen' if sh['stopping_notified'] else ''}{' (the slowest daemon)' if daemons > 1 else ''}")
    try:  # after the fact: every answered text is a durable inbound row
        rows = asyncio.run(count_rows(database_url, "inbound_messages"))
    except Exception as exc:  # noqa: BLE001 - a schema change must not break the benchmark
        rows = f"unknown ({exc})"
    logged = [x.log_errors() for x in started]
    res["durability"] = {"answered_200": answered, "inbound_rows": rows,
                         "daemon_log_errors": sum(e for e, _ in logged), "daemon_log_bytes": sum(b for _, b in logged)}
    return res


def bare_run(args: argparse.Namespace, workdir: Path, log) -> dict:
    """The same closed loops against bench/bare_server.py (on the daemon's CPU when pinned)."""
    phones = [f"+1555{1000000 + i * 100 + j:07d}" for i in range(args.sites) for j in range(args.contacts_per_site)]
    workdir.mkdir(parents=True, exist_ok=True)
    plans = write_plans(workdir, phones)
    port = free_port()
    bare = subprocess.Popen([PY, str(HERE / "bare_server.py"), "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=on_cpu(args.daemon_cpu))
    try:
        if wait_ready(f"http://127.0.0.1:{port}/readyz", bare, timeout=15) is None:
            raise BenchError("the bare aiohttp server did not start")
        return closed_phases(f"http://127.0.0.1:{port}/carriers/loopback/inbound", bare.pid, plans, args, "bare", log)
    finally:
        bare.send_signal(signal.SIGTERM)
        try:
            bare.wait(timeout=10)
        except subprocess.TimeoutExpired:
            bare.kill()
            bare.wait(timeout=5)


def bench(args: argparse.Namespace, workdir: Path, log) -> dict:
    results: dict = {"params": {k: v for k, v in vars(args).items() if k != "json"}}
    db = workdir / "sqlite" / "gateway.sqlite3"
    results["env"] = {"git": git_describe(), "cpus": os.cpu_count(), "python": sys.version.split()[0],
                      "db_filesystem": filesystem_of(workdir), "workdir": str(workdir),
                      "pinned": {"daemon": args.daemon_cpu, "client": args.client_cpu}}
    main_url = args.database or f"sqlite:///{db}"
    results["gateway"] = gateway_run(args, workdir / "sqlite", main_url, "gateway", log, steady=True,
                                     spy_out=args.py_spy)
    results["bare"] = bare_run(args, workdir / "bare", log)
    results["ratio"] = {k: ratio(results["gateway"]["closed"][k], results["bare"][k]) for k in results["bare"]}
    log(f"ratio gateway/bare: {results['ratio']}")
    if args.postgres:
        for key, daemons in (("postgres", 1), ("postgres2", 2)):  # each on a throwaway database of its own
            results[key] = postgres_run(args, workdir / key, key, log, daemons)
            results[f"ratio_{key}"] = {k: ratio(results[key]["closed"][k], results["bare"][k]) for k in results["bare"]}
            log(f"ratio {key}/bare: {results[f'ratio_{key}']}")
        results["ratio_postgres_to_sqlite"] = {k: ratio(results["postgres"]["closed"][k], results["gateway"]["closed"][k])
                                               for k in results["bare"]}
        log(f"ratio postgres/sqlite (one daemon each): {results['ratio_postgres_to_sqlite']}")
    return results


def postgres_run(args: argparse.Namespace, workdir: Path, tag: str, log, daemons: int) -> dict:
    name = "gw_bench_" + secrets.token_hex(4)
    asyncio.run(pg_admin(args.postgres, f"CREATE DATABASE {name}"))
    try:
        return gateway_run(args, workdir, args.postgres.rsplit("/", 1)[0] + "/" + name, tag, log, steady=False,
                           daemons=daemons)
    finally:
        asyncio.run(pg_admin(args.postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def pg_admin(server: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# --------------------------------------------------------------------------- output

def verdict(ok: bool) -> str:
    return "ok " if ok else "MISS"


def table(r: dict) -> str:
    g, b = r["gateway"], r["bare"]
    s, st, m = g["startup"], g["steady"], g["memory"]
    pk = peak_mb(m)
    rows = [
        ("start-up: /readyz 200", f"{s['ready_http_s']:.3f} s", f"< {AIMS['ready_s']:g} s",
         verdict(s["ready_http_s"] < AIMS["ready_s"])),
        ("start-up: sd_notify READY=1", "-" if s["ready_notify_s"] is None else f"{s['ready_notify_s']:.3f} s",
         f"< {AIMS['ready_s']:g} s", verdict(s["ready_notify_s"] is not None and s["ready_notify_s"] < AIMS["ready_s"])),
    ]
    engines = [("", g, r["ratio"])] + [(f"{label} ", r[key], r[f"ratio_{key}"])
                                       for key, label in (("postgres", "postgres"), ("postgres2", "2 postgres"))
                                       if key in r]
    for name, label in (("mix", "chatter mix"), ("help", "HELP from unknown")):
        bb = b[name]
        for engine, res, _ratios in engines:
            gw = res["closed"][name]
            rows += [
                (f"{engine}gateway closed loop, {label} (c={gw['concurrency']})", f"{gw['per_second']:.0f} msg/s",
                 "", ""),
                ("  latency p50 / p99", f"{gw['p50_ms']:.2f} / {gw['p99_ms']:.2f} ms", "", ""),
                ("  errors / duplicates", f"{gw['errors']} / {gw['duplicates']} of {gw['sent']}", "< 1%",
                 verdict(gw["errors"] <= MAX_ERROR_RATE * max(1, gw["sent"]))),
                ("  CPU: daemon / client", f"{gw['server_cpu_pct']}% / {gw['client_cpu_pct']}%", "", ""),
                ("  daemon per text: CPU, context switches",
                 f"{gw['server_cpu_us_per_text']} us, {gw['context_switches_per_text']}", "", ""),
            ]
        rows += [
            (f"bare aiohttp closed loop, {label}", f"{bb['per_second']:.0f} msg/s", "", ""),
            ("  latency p50 / p99", f"{bb['p50_ms']:.2f} / {bb['p99_ms']:.2f} ms", "", ""),
            ("  CPU: server / client", f"{bb['server_cpu_pct']}% / {bb['client_cpu_pct']}%", "", ""),
        ]
        for engine, _, ratios in engines:
            rows.append((f"ratio {engine}gateway / bare, {label}", f"{ratios[name]:.3f}", f">= {AIMS['ratio']:.2f}",
                         verdict((ratios[name] or 0) >= AIMS["ratio"]) if not engine else ""))
    rows += [
        (f"steady {st['rate']:g} msg/s open loop", f"{st['ok']} ok, {st['errors']} err, {st['per_second']:.0f} msg/s",
         "", ""),
        ("  latency p50 / p99", f"{st['p50_ms']:.2f} / {st['p99_ms']:.2f} ms" if st["p99_ms"] is not None else "-",
         f"p99 < {AIMS['steady_p99_ms']:g} ms", verdict(st["p99_ms"] is not None and st["p99_ms"] < AIMS["steady_p99_ms"])),
        ("  latency p90 / max, daemon CPU", f"{st['p90_ms']:.2f} / {st['max_ms']:.2f} ms, {st['server_cpu_pct']}%"
         if st["max_ms"] is not None else "-", "", ""),
        ("daemon peak RSS (VmHWM)", f"{pk:.1f} MB", f"< {AIMS['rss_mb']:g} MB", verdict(pk < AIMS["rss_mb"])),
        ("  RSS at ready / at end", f"{(s['rss_kb_at_ready'] or 0) / 1024:.1f} / {(m['vmrss_end_kb'] or 0) / 1024:.1f} MB",
         "", ""),
    ]
    for engine, res, _ in engines:
        d = res["durability"]
        rows += [
            (f"{engine}shutdown on SIGTERM", f"exit {res['shutdown']['exit_code']} in {res['shutdown']['seconds']:.3f} s",
             "exit 0", verdict(res["shutdown"]["exit_code"] == 0)),
            (f"{engine}inbound rows / answered 200", f"{d['inbound_rows']} / {d['answered_200']}", "equal",
             verdict(d["inbound_rows"] == d["answered_200"])),
            (f"{engine}daemon log ERROR lines", str(d["daemon_log_errors"]), "0", verdict(d["daemon_log_errors"] == 0)),
        ]
    if "postgres" in r:
        rows.insert(2, ("postgres start-up: READY=1", f"{r['postgres']['startup']['ready_notify_s']} s", "", ""))
        rows.append(("postgres daemon peak RSS", f"{peak_mb(r['postgres']['memory']):.1f} MB",
                     f"< {AIMS['rss_mb']:g} MB", verdict(peak_mb(r["postgres"]["memory"]) < AIMS["rss_mb"])))
        for name, label in (("mix", "chatter mix"), ("help", "HELP from unknown")):
            rows.append((f"ratio postgres / sqlite (one daemon each), {label}",
                         f"{r['ratio_postgres_to_sqlite'][name]:.3f}", f">= {AIMS['postgres_to_sqlite']:.2f}",
                         verdict((r["ratio_postgres_to_sqlite"][name] or 0) >= AIMS["postgres_to_sqlite"])))
    w0 = max(len(x[0]) for x in rows)
    w1 = max(len(x[1]) for x in rows)
    w2 = max(len(x[2]) for x in rows)
    lines = [f"{'figure':<{w0}}  {'value':<{w1}}  {'aim':<{w2}}  ", "-" * (w0 + w1 + w2 + 10)]
    lines += [f"{a:<{w0}}  {v:<{w1}}  {aim:<{w2}}  {ok}".rstrip() for a, v, aim, ok in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run (~10 s): fewer sites, 2000 messages, 3 s steady")
    p.add_argument("--messages", type=int, help="closed-loop messages per target (default 20000; quick 2000)")
    p.add_argument("--concurrency", type=int, default=32, help="closed-loop requests in flight (default 32)")
    p.add_argument("--warmup", type=int, help="unmeasured messages before each closed loop (default 500; quick 100)")
    p.add_argument("--rate", type=float, default=500.0, help="steady phase messages/s (default 500)")
    p.add_argument("--steady-seconds", type=float, help="steady phase length (default 10; quick 3)")
    p.add_argument("--sites", type=int, help="sites to seed (default 20; quick 5)")
    p.add_argument("--contacts-per-site", type=int, default=2, help="auto-notify contacts per site (default 2)")
    p.add_argument("--events-per-site", type=int, default=3,
                   help="alarm events per site, each opening a verification to its contacts (default 3)")
    p.add_argument("--keywords", default=str(HERE.parent / "keywords.yaml"), help="keywords.yaml for the daemon")
    p.add_argument("--log-level", default="INFO", help="the daemon's logging.level (default INFO, as shipped)")
    p.add_argument("--gateway", help="path of the `gateway` console script (default: beside this Python)")
    p.add_argument("--dir", help="parent folder of the temporary SQLite file (default: the system temp dir)")
    p.add_argument("--database", metavar="URL", help="an empty database for the daemon, e.g. postgresql://... "
                   "(default: a new SQLite file in the temporary folder)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (database, daemon.log)")
    p.add_argument("--max-phase-seconds", type=float, default=120.0, help="a closed-loop phase stops after this")
    p.add_argument("--json", metavar="FILE", help="also write every figure as JSON to FILE")
    p.add_argument("--pid-file", help="write the daemon's pid here once it is ready (to attach a profiler)")
    p.add_argument("--py-spy", metavar="OUT", help="record the daemon with py-spy from the gateway closed loop to "
                   "the end of the steady phase (.svg flame graph, .json speedscope, .txt folded stacks)")
    p.add_argument("--py-spy-rate", type=int, default=200, help="py-spy samples per second (default 200)")
    p.add_argument("--py-spy-opts", default="", help="py-spy record options instead of --nonblocking, e.g. "
                   "'--gil --native --threads'")
    p.add_argument("--pin", action="store_true", help="daemon and bare server on CPU 0, load client on CPU 1")
    p.add_argument("--postgres", metavar="SERVER_URL", help="also run one daemon, then two daemons sharing one "
                   "database (the load client round-robin), each on a throwaway database made on this PostgreSQL "
                   "server (e.g. postgresql://postgres@127.0.0.1:5432/postgres; dropped after)")
    args = p.parse_args(argv)
    q = args.quick
    args.messages = args.messages or (2000 if q else 20000)
    args.warmup = (100 if q else 500) if args.warmup is None else args.warmup
    args.steady_seconds = args.steady_seconds or (3.0 if q else 10.0)
    args.sites = args.sites or (5 if q else 20)
    if args.pin and len(os.sched_getaffinity(0) & {0, 1}) < 2:
        p.error("--pin needs CPUs 0 and 1")
    args.daemon_cpu, args.client_cpu = (0, 1) if args.pin else (None, None)
    for name in ("messages", "concurrency", "rate", "steady_seconds", "sites", "contacts_per_site"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="gwbench-", dir=args.dir))
    t0 = time.monotonic()
    try:
        results = bench(args, workdir, log)
    except (BenchError, subprocess.SubprocessError, OSError) as exc:
        print(f"benchmark broke: {exc}", file=sys.stderr)
        for log_file in sorted(workdir.glob("*/daemon.log")):
            print(f"--- {log_file} (last 30 lines) ---\n" + "\n".join(
                log_file.read_text(errors="replace").splitlines()[-30:]), file=sys.stderr)
        print(f"(kept {workdir})", file=sys.stderr)
        return 1
    results["total_seconds"] = round(time.monotonic() - t0, 1)
    print()
    print(table(results))
    print(f"(gateway {results['env']['git']}; total {results['total_seconds']} s; "
          f"db on {results['env']['db_filesystem']}, {results['env']['cpus']} CPUs, "
          f"{'pinned: daemon CPU 0, client CPU 1' if args.pin else 'not pinned'}; "
          f"mix sent {results['gateway']['closed']['mix']['kinds']})")
    keep_or_remove(results, args.json, args.keep, workdir)

    broken = []
    phases = [(f"bare {k}", v) for k, v in results["bare"].items()]
    for engine in ("gateway", "postgres", "postgres2"):
        if engine in results:
            phases += [(f"{engine} {k}", v) for k, v in results[engine]["closed"].items()]
            phases += [(f"{engine} steady", results[engine]["steady"])] if "steady" in results[engine] else []
            if results[engine]["shutdown"]["exit_code"] != 0:
                broken.append(f"{engine} daemon exit status {results[engine]['shutdown']['exit_code']} after SIGTERM")
    for phase, ph in phases:
        attempts = ph["sent"] + ph.get("skipped", 0)
        if ph["errors"] > MAX_ERROR_RATE * max(1, attempts):
            broken.append(f"{phase}: {ph['errors']} errors of {attempts} (first: {ph['first_error']})")
    return exit_status(broken)


if __name__ == "__main__":
    sys.exit(main())
