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

Exit status: 0 when the run completed (whatever the figures), 1 when something broke:
the daemon did not start or died, seeding failed, or more than 1% of requests failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
AIMS = {"ready_s": 2.0, "ratio": 0.40, "steady_p99_ms": 10.0, "rss_mb": 80.0}
MAX_ERROR_RATE = 0.01


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------- helpers

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(method: str, url: str, payload: dict | None = None, headers: dict | None = None,
              timeout: float = 5.0) -> tuple[int, dict | None]:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        return status, None


def wait_ready(url: str, proc: subprocess.Popen, timeout: float) -> float | None:
    """Poll ``url`` every 5 ms until it answers 200; the monotonic time it did, None on timeout or exit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        try:
            with urllib.request.urlopen(url, timeout=1.0) as resp:
                if resp.status == 200:
                    return time.monotonic()
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.005)
    return None


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM etc. in kB from /proc/PID/status ({} once the process is gone)."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Vm"):
                key, _, value = line.partition(":")
                out[key] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def git_describe() -> str | None:
    """The commit of the gateway being measured, with '-dirty' when the tree has changes."""
    try:
        done = subprocess.run(["git", "-C", str(HERE.parent), "describe", "--always", "--dirty", "--exclude", "*"],
                              capture_output=True, text=True, timeout=10)
        return done.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def filesystem_of(path: Path) -> str:
    best, fstype = "", "?"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            mount = parts[1]
            if str(path).startswith(mount) and len(mount) > len(best):
                best, fstype = mount, parts[2]
    except OSError:
        pass
    return fstype


class NotifyListener:
    """Binds an AF_UNIX datagram socket for NOTIFY_SOCKET and timestamps what the daemon says."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notify", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode(errors="replace")))

    def first(self, line: str) -> float | None:
        for at, text in list(self.messages):
            if line in text.splitlines():
                return at
        return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        self.sock.close()


class RssMonitor:
    """Samples VmRSS of a pid every ``interval`` seconds; remembers the peak and the peak per phase."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.phase = "start"
        self.phase_peak: dict[str, int] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = proc_status(self.pid).get("VmRSS")
            if rss is None:
                continue
            self.samples += 1
            self.peak_kb = max(self.peak_kb, rss)
            self.phase_peak[self.phase] = max(self.phase_peak.get(self.phase, 0), rss)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)


def run_client(url: str, plan: Path, *, mode: str, prefix: str, count: int = 0, concurrency: int = 32,
               rate: float = 0, seconds: float = 0, max_seconds: float = 120, seed: int = 1) -> dict:
    cmd = [PY, str(HERE / "loadclient.py"), "--url", url, "--plan", str(plan), "--mode", mode,
           "--prefix", prefix, "--seed", str(seed), "--max-seconds", str(max_seconds)]
    if mode == "closed":
        cmd += ["--count", str(count), "--concurrency", str(concurrency)]
    else:
        cmd += ["--rate", str(rate), "--seconds", str(seconds)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=max_seconds + 60)
    if done.returncode != 0:
        raise BenchError(f"load client failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def run_seed(commands: list[list[str]]) -> list[dict]:
    done = subprocess.run([PY, str(HERE / "seed.py")], input=json.dumps(commands), capture_output=True,
                          text=True, timeout=120)
    if done.returncode != 0:
        raise BenchError(f"seeding failed: {done.stderr.strip()[-2000:]}")
    results = json.loads(done.stdout)
    bad = [(c, r) for c, r in zip(commands, results) if r["rc"] != 0]
    if bad:
        cmd, r = bad[0]
        raise BenchError(f"`gateway {' '.join(cmd)}` failed ({r['rc']}): {r['err'].strip()}")
    return results


class PySpy:
    """``py-spy record`` on the daemon for one phase (optional)."""

    def __init__(self, pid: int, out: str, rate: int) -> None:
        exe = shutil.which("py-spy", path=os.pathsep.join([str(Path(PY).parent), os.environ.get("PATH", "")]))
        if exe is None:
            raise BenchError("--py-spy: py-spy not found (pip install py-spy)")
        fmt = "speedscope" if out.endswith(".json") else "raw" if out.endswith((".txt", ".folded")) else "flamegraph"
        self.out = out
        self.proc = subprocess.Popen([exe, "record", "--pid", str(pid), "--rate", str(rate), "--format", fmt,
                                      "--nonblocking", "-o", out], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        time.sleep(0.5)  # let it attach before the load starts

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            out, _ = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        lines = (out or "").strip().splitlines()
        return next((line for line in lines if "Samples" in line), lines[-1] if lines else "")


# --------------------------------------------------------------------------- the run

async def count_rows(url: str, table: str) -> int:
    sys.path.insert(0, str(HERE.parent))
    from gateway.stores import open_store

    store = open_store(url)
    await store.open()
    try:
        return await store.db.count(table)
    finally:
        await store.close()


def bench(args: argparse.Namespace, workdir: Path, log) -> dict:
    results: dict = {"params": {k: v for k, v in vars(args).items() if k != "json"}}
    gateway = args.gateway or shutil.which("gateway", path=str(Path(PY).parent)) or shutil.which("gateway")
    if not gateway:
        raise BenchError("cannot find the `gateway` console script (pass --gateway PATH)")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    db = workdir / "gateway.sqlite3"
    database_url = args.database or f"sqlite:///{db}"
    config = workdir / "gateway.yaml"
    config.write_text(
        f"http: {{host: 127.0.0.1, port: {port}, public_url: \"{base}\"}}\n"
        f"database: {{url: \"{database_url}\"}}\n"
        f"keywords: {args.keywords}\n"
        f"logging: {{level: {args.log_level}}}\n")
    results["env"] = {"git": git_describe(), "cpus": os.cpu_count(), "python": sys.version.split()[0], "db_filesystem": filesystem_of(db) if not args.database else "postgresql",
                      "workdir": str(workdir)}

    notify = NotifyListener(workdir / "notify.sock")
    daemon_log = open(workdir / "daemon.log", "wb")
    env = {**os.environ, "NOTIFY_SOCKET": str(notify.path)}
    env.pop("WATCHDOG_USEC", None)
    env.pop("WATCHDOG_PID", None)
    t_start = time.monotonic()
    daemon = subprocess.Popen([gateway, "serve", "-c", str(config)], env=env, stdout=daemon_log,
                              stderr=subprocess.STDOUT, start_new_session=True, cwd=workdir)
    rss = RssMonitor(daemon.pid)
    bare = spy = None
    try:
        t_http = wait_ready(base + "/readyz", daemon, timeout=30)
        if t_http is None:
            raise BenchError(f"daemon did not become ready (exit {daemon.poll()}); log: {workdir / 'daemon.log'}")
        for _ in range(100):  # the datagram may trail the listener by a moment
            if notify.first("READY=1") is not None:
                break
            time.sleep(0.01)
        t_notify = notify.first("READY=1")
        results["startup"] = {"ready_http_s": round(t_http - t_start, 3),
                              "ready_notify_s": None if t_notify is None else round(t_notify - t_start, 3),
                              "rss_kb_at_ready": proc_status(daemon.pid).get("VmRSS")}
        log(f"daemon pid {daemon.pid} on {base}: /readyz 200 after {t_http - t_start:.3f} s, READY=1 after "
            f"{'never' if t_notify is None else f'{t_notify - t_start:.3f} s'}")
        if args.pid_file:
            Path(args.pid_file).write_text(f"{daemon.pid}\n")

        # ---- seed: sites and contacts through the CLI, then alarm events over HTTP
        rss.phase = "seed"
        t0 = time.monotonic()
        cfg = ["-c", str(config)]
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
        # The daemon leaves its operator key beside a SQLite file, else in ./var (its working directory here).
        key = (workdir / ("var/operator.key" if args.database else "operator.key")).read_text().strip()
        texts_expected = 0
        verifications = 0

        def post_event(n: int) -> tuple[int, dict | None]:
            site = sites[n % len(sites)]
            return http_json("POST", base + "/ext/v1/events", {
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
                status, body = http_json("GET", f"{base}/carriers/loopback/outbox?after={after}&limit=1000")
                page = (body or {}).get("messages") or []
                sent += len(page)
                if status != 200 or len(page) < 1000:
                    break
                after = page[-1]["id"]
            if sent >= texts_expected:
                break
            time.sleep(0.1)
        results["seed"] = {"sites": len(sites), "contacts": len(phones), "events": len(sites) * args.events_per_site,
                           "verifications": verifications, "texts_sent": sent, "texts_expected": texts_expected,
                           "seconds": round(time.monotonic() - t0, 2)}
        log(f"seeded {len(sites)} sites, {len(phones)} contacts, {verifications} open verifications, "
            f"{sent}/{texts_expected} texts sent in {time.monotonic() - t0:.1f} s")

        plan = workdir / "plan.json"
        plan.write_text(json.dumps({"contacts": phones, "mix": [0.4, 0.3, 0.3],
                                    "unknown": [f"+1555{2000000 + k:07d}" for k in range(5000)]}))
        url = base + "/carriers/loopback/inbound"

        # ---- closed loop against the gateway
        rss.phase = "warmup"
        if args.warmup:
            run_client(url, plan, mode="closed", prefix="warm", count=args.warmup, concurrency=args.concurrency)
        rss.phase = "closed"
        spy = PySpy(daemon.pid, args.py_spy, args.py_spy_rate) if args.py_spy else None
        cpu0 = cpu_seconds(daemon.pid)
        gw = run_client(url, plan, mode="closed", prefix="load", count=args.messages, concurrency=args.concurrency,
                        max_seconds=args.max_phase_seconds)
        cpu1 = cpu_seconds(daemon.pid)
        gw["server_cpu_pct"] = round(100 * (cpu1 - cpu0) / gw["elapsed_s"], 1) if cpu0 is not None and cpu1 else None
        results["gateway"] = gw
        log(f"gateway: {gw['ok']} ok / {gw['errors']} errors, {gw['per_second']} msg/s, p50 {gw['p50_ms']} ms, "
            f"p99 {gw['p99_ms']} ms")

        # ---- the same closed loop against a bare aiohttp handler
        rss.phase = "bare"
        bare_port = free_port()
        bare = subprocess.Popen([PY, str(HERE / "bare_server.py"), "--port", str(bare_port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        if wait_ready(f"http://127.0.0.1:{bare_port}/readyz", bare, timeout=15) is None:
            raise BenchError("the bare aiohttp server did not start")
        bare_url = f"http://127.0.0.1:{bare_port}/carriers/loopback/inbound"
        if args.warmup:
            run_client(bare_url, plan, mode="closed", prefix="warm", count=args.warmup, concurrency=args.concurrency)
        cpu0 = cpu_seconds(bare.pid)
        bb = run_client(bare_url, plan, mode="closed", prefix="load", count=args.messages,
                        concurrency=args.concurrency, max_seconds=args.max_phase_seconds)
        cpu1 = cpu_seconds(bare.pid)
        bb["server_cpu_pct"] = round(100 * (cpu1 - cpu0) / bb["elapsed_s"], 1) if cpu0 is not None and cpu1 else None
        bare.send_signal(signal.SIGTERM)
        bare.wait(timeout=10)
        bare = None
        results["bare"] = bb
        results["ratio"] = round(gw["per_second"] / bb["per_second"], 3) if gw["per_second"] and bb["per_second"] \
            else None
        log(f"bare:    {bb['ok']} ok / {bb['errors']} errors, {bb['per_second']} msg/s; ratio {results['ratio']}")

        # ---- open loop at a steady rate against the gateway
        rss.phase = "steady"
        cpu0 = cpu_seconds(daemon.pid)
        st = run_client(url, plan, mode="open", prefix="steady", rate=args.rate, seconds=args.steady_seconds,
                        max_seconds=args.steady_seconds + 30)
        cpu1 = cpu_seconds(daemon.pid)
        if spy:  # recorded the closed loop and the steady phase (py-spy leaves out the idle bare phase)
            results["py_spy"] = {"output": args.py_spy, "said": spy.stop()}
            spy = None
        st["server_cpu_pct"] = round(100 * (cpu1 - cpu0) / st["elapsed_s"], 1) if cpu0 is not None and cpu1 else None
        results["steady"] = st
        log(f"steady:  {st['ok']} ok / {st['errors']} errors at {args.rate:g}/s, p50 {st['p50_ms']} ms, "
            f"p99 {st['p99_ms']} ms")
        if st.get("by_second"):
            log("steady p50/p99 ms by second: " + "  ".join(
                f"{b['p50_ms']:.1f}/{b['p99_ms']:.1f}" for b in st["by_second"]))

        # ---- memory, then shutdown
        rss.phase = "end"
        status = proc_status(daemon.pid)
        rss.stop()
        results["memory"] = {"vmhwm_kb": status.get("VmHWM"), "vmrss_end_kb": status.get("VmRSS"),
                             "vmrss_peak_sampled_kb": rss.peak_kb, "samples": rss.samples,
                             "vmrss_peak_by_phase_kb": rss.phase_peak}
    finally:
        rss.stop()
        if spy is not None:
            spy.stop()
        if bare is not None and bare.poll() is None:
            bare.kill()
            bare.wait(timeout=5)
        t_term = time.monotonic()
        exit_code = daemon.poll()
        if exit_code is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                exit_code = daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(timeout=5)
                exit_code = "killed after 30 s"
        t_exit = time.monotonic()
        time.sleep(0.05)
        t_stopping = notify.first("STOPPING=1")
        notify.close()
        daemon_log.close()
        results["shutdown"] = {"exit_code": exit_code, "seconds": round(t_exit - t_term, 3),
                               "stopping_notified": t_stopping is not None}
        log(f"shutdown: SIGTERM -> exit {exit_code} in {t_exit - t_term:.3f} s"
            f"{', STOPPING=1 seen' if t_stopping else ''}")

    # ---- after the fact: every answered text is a durable inbound row; problems in the daemon log
    answered = sum(results[k]["ok"] for k in ("gateway", "steady")) + (args.warmup or 0)
    try:
        rows = asyncio.run(count_rows(database_url, "inbound_messages"))
    except Exception as exc:  # noqa: BLE001 - a schema change must not break the benchmark
        rows = f"unknown ({exc})"
    text = (workdir / "daemon.log").read_text(errors="replace")
    results["durability"] = {"answered_200": answered, "inbound_rows": rows,
                             "daemon_log_errors": sum(1 for line in text.splitlines()
                                                      if " ERROR " in line or " CRITICAL " in line
                                                      or line.startswith("Traceback")),
                             "daemon_log_bytes": len(text)}
    return results


# --------------------------------------------------------------------------- output

def verdict(ok: bool) -> str:
    return "ok " if ok else "MISS"


def table(r: dict) -> str:
    s, g, b, st, m, sh = r["startup"], r["gateway"], r["bare"], r["steady"], r["memory"], r["shutdown"]
    peak_mb = max(m["vmhwm_kb"] or 0, m["vmrss_peak_sampled_kb"]) / 1024
    rows = [
        ("start-up: /readyz 200", f"{s['ready_http_s']:.3f} s", f"< {AIMS['ready_s']:g} s",
         verdict(s["ready_http_s"] < AIMS["ready_s"])),
        ("start-up: sd_notify READY=1", "-" if s["ready_notify_s"] is None else f"{s['ready_notify_s']:.3f} s",
         f"< {AIMS['ready_s']:g} s", verdict(s["ready_notify_s"] is not None and s["ready_notify_s"] < AIMS["ready_s"])),
        (f"gateway closed loop (c={g['concurrency']})", f"{g['per_second']:.0f} msg/s", "", ""),
        ("  latency p50 / p99", f"{g['p50_ms']:.2f} / {g['p99_ms']:.2f} ms", "", ""),
        ("  errors / duplicates", f"{g['errors']} / {g['duplicates']} of {g['sent']}", "< 1%",
         verdict(g["errors"] <= MAX_ERROR_RATE * max(1, g["sent"]))),
        ("  CPU: daemon / client", f"{g['server_cpu_pct']}% / {g['client_cpu_pct']}%", "", ""),
        (f"bare aiohttp closed loop (c={b['concurrency']})", f"{b['per_second']:.0f} msg/s", "", ""),
        ("  latency p50 / p99", f"{b['p50_ms']:.2f} / {b['p99_ms']:.2f} ms", "", ""),
        ("  CPU: server / client", f"{b['server_cpu_pct']}% / {b['client_cpu_pct']}%", "", ""),
        ("ratio gateway / bare", f"{r['ratio']:.3f}", f">= {AIMS['ratio']:.2f}", verdict((r["ratio"] or 0) >= AIMS["ratio"])),
        (f"steady {st['rate']:g} msg/s open loop", f"{st['ok']} ok, {st['errors']} err, {st['per_second']:.0f} msg/s",
         "", ""),
        ("  latency p50 / p99", f"{st['p50_ms']:.2f} / {st['p99_ms']:.2f} ms" if st["p99_ms"] is not None else "-",
         f"p99 < {AIMS['steady_p99_ms']:g} ms", verdict(st["p99_ms"] is not None and st["p99_ms"] < AIMS["steady_p99_ms"])),
        ("  latency p90 / max, daemon CPU", f"{st['p90_ms']:.2f} / {st['max_ms']:.2f} ms, {st['server_cpu_pct']}%"
         if st["max_ms"] is not None else "-", "", ""),
        ("daemon peak RSS (VmHWM)", f"{peak_mb:.1f} MB", f"< {AIMS['rss_mb']:g} MB", verdict(peak_mb < AIMS["rss_mb"])),
        ("  RSS at ready / at end", f"{(s['rss_kb_at_ready'] or 0) / 1024:.1f} / {(m['vmrss_end_kb'] or 0) / 1024:.1f} MB",
         "", ""),
        ("shutdown on SIGTERM", f"exit {sh['exit_code']} in {sh['seconds']:.3f} s", "exit 0",
         verdict(sh["exit_code"] == 0)),
        ("inbound rows / answered 200", f"{r['durability']['inbound_rows']} / {r['durability']['answered_200']}", "",
         ""),
        ("daemon log ERROR lines", str(r["durability"]["daemon_log_errors"]), "0",
         verdict(r["durability"]["daemon_log_errors"] == 0)),
    ]
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
    args = p.parse_args(argv)
    q = args.quick
    args.messages = args.messages or (2000 if q else 20000)
    args.warmup = (100 if q else 500) if args.warmup is None else args.warmup
    args.steady_seconds = args.steady_seconds or (3.0 if q else 10.0)
    args.sites = args.sites or (5 if q else 20)
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
        log_file = workdir / "daemon.log"
        if log_file.exists():
            print("--- daemon.log (last 30 lines) ---\n" + "\n".join(
                log_file.read_text(errors="replace").splitlines()[-30:]), file=sys.stderr)
        print(f"(kept {workdir})", file=sys.stderr)
        return 1
    results["total_seconds"] = round(time.monotonic() - t0, 1)
    print()
    print(table(results))
    print(f"(gateway {results['env']['git']}; total {results['total_seconds']} s; "
          f"db on {results['env']['db_filesystem']}, "
          f"{results['env']['cpus']} CPUs; mix sent {results['gateway']['kinds']})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    if args.keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)

    broken = []
    for phase in ("gateway", "bare", "steady"):
        ph = results[phase]
        attempts = ph["sent"] + ph.get("skipped", 0)
        if ph["errors"] > MAX_ERROR_RATE * max(1, attempts):
            broken.append(f"{phase}: {ph['errors']} errors of {attempts} (first: {ph['first_error']})")
    if results["shutdown"]["exit_code"] != 0:
        broken.append(f"daemon exit status {results['shutdown']['exit_code']} after SIGTERM")
    for line in broken:
        print(f"BROKEN: {line}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
