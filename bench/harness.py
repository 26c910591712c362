"""What the benchmarks share: running ``gateway serve`` under measurement and reading a process from /proc.

Used by bench/inbound.py, bench/storm.py and bench/interface.py. Everything listens on 127.0.0.1; every
wait is bounded in time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable


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


def context_switches(pid: int) -> int | None:
    """Voluntary and involuntary context switches of every thread of a process so far: each hand-off between
    the event loop and a worker thread costs some, whatever else the machine is doing."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for line in (task / "status").read_text().splitlines():
                if "ctxt_switches:" in line:
                    total += int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return total


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


def run_client(url: str | list[str], plan: Path, *, mode: str, prefix: str, count: int = 0, concurrency: int = 32,
               rate: float = 0, seconds: float = 0, max_seconds: float = 120, seed: int = 1,
               cpu: int | None = None) -> dict:
    urls = [url] if isinstance(url, str) else url  # several: round-robin, message by message
    cmd = [PY, str(HERE / "loadclient.py"), *(a for u in urls for a in ("--url", u)), "--plan", str(plan),
           "--mode", mode, "--prefix", prefix, "--seed", str(seed), "--max-seconds", str(max_seconds)]
    if mode == "closed":
        cmd += ["--count", str(count), "--concurrency", str(concurrency)]
    else:
        cmd += ["--rate", str(rate), "--seconds", str(seconds)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=max_seconds + 60, preexec_fn=on_cpu(cpu))
    if done.returncode != 0:
        raise BenchError(f"load client failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def on_cpu(cpu: int | None):
    """A ``preexec_fn`` that pins the child (and every thread it starts) to one CPU; None: not pinned."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


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

    def __init__(self, pid: int, out: str, rate: int, extra: list[str] | None = None) -> None:
        exe = shutil.which("py-spy", path=os.pathsep.join([str(Path(PY).parent), os.environ.get("PATH", "")]))
        if exe is None:
            raise BenchError("--py-spy: py-spy not found (pip install py-spy)")
        fmt = "speedscope" if out.endswith(".json") else "raw" if out.endswith((".txt", ".folded")) else "flamegraph"
        self.out = out
        self.proc = subprocess.Popen([exe, "record", "--pid", str(pid), "--rate", str(rate), "--format", fmt,
                                      *(extra or ["--nonblocking"]), "-o", out], stdout=subprocess.PIPE,
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


def gateway_script(given: str | None) -> str:
    found = given or shutil.which("gateway", path=str(Path(PY).parent)) or shutil.which("gateway")
    if not found:
        raise BenchError("cannot find the `gateway` console script (pass --gateway PATH)")
    return found


class Daemon:
    """``gateway serve`` in ``workdir`` on a free port, its start-up timed (HTTP and sd_notify) and its RSS
    sampled; ``extra_config`` is YAML appended to the config. ``cpu`` pins it (and its threads) to one CPU;
    ``wrapper`` runs it under another command (valgrind)."""

    def __init__(self, gateway: str, workdir: Path, database_url: str, *, keywords: str, log_level: str = "INFO",
                 extra_config: str = "", cpu: int | None = None, wrapper: list[str] | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir, self.database_url = workdir, database_url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config = workdir / "gateway.yaml"
        self.config.write_text(
            f"http: {{host: 127.0.0.1, port: {self.port}, public_url: \"{self.base}\"}}\n"
            f"database: {{url: \"{database_url}\"}}\n"
            f"keywords: {keywords}\n"
            f"logging: {{level: {log_level}}}\n" + extra_config)
        self.log_path = workdir / "daemon.log"
        self.notify = NotifyListener(workdir / "notify.sock")
        self._log = open(self.log_path, "wb")
        env = {**os.environ, "NOTIFY_SOCKET": str(self.notify.path)}
        env.pop("WATCHDOG_USEC", None)
        env.pop("WATCHDOG_PID", None)
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen([*(wrapper or []), gateway, "serve", "-c", str(self.config)], env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True, cwd=workdir,
                                     preexec_fn=on_cpu(cpu))
        self.pid = self.proc.pid
        self.rss = RssMonitor(self.pid)

    def wait_started(self, timeout: float = 30) -> dict:
        """Start-up figures once ``/readyz`` answers 200 and READY=1 came (BenchError if it never did)."""
        t_http = wait_ready(self.base + "/readyz", self.proc, timeout=timeout)
        if t_http is None:
            raise BenchError(f"daemon did not become ready (exit {self.proc.poll()}); log: {self.log_path}")
        for _ in range(100):  # the datagram may trail the listener by a moment
            if self.notify.first("READY=1") is not None:
                break
            time.sleep(0.01)
        t_notify = self.notify.first("READY=1")
        return {"ready_http_s": round(t_http - self.t_start, 3),
                "ready_notify_s": None if t_notify is None else round(t_notify - self.t_start, 3),
                "rss_kb_at_ready": proc_status(self.pid).get("VmRSS")}

    def operator_key(self) -> str:
        # The daemon leaves its operator key beside a SQLite file, else in ./var (its working directory).
        sqlite = self.database_url.startswith("sqlite:")
        return (self.workdir / ("operator.key" if sqlite else "var/operator.key")).read_text().strip()

    def memory(self) -> dict:
        status = proc_status(self.pid)
        self.rss.stop()
        return {"vmhwm_kb": status.get("VmHWM"), "vmrss_end_kb": status.get("VmRSS"),
                "vmrss_peak_sampled_kb": self.rss.peak_kb, "samples": self.rss.samples,
                "vmrss_peak_by_phase_kb": self.rss.phase_peak}

    def stop(self) -> dict:
        """SIGTERM, then how it exited (killed after 30 s)."""
        self.rss.stop()
        t_term = time.monotonic()
        exit_code = self.proc.poll()
        if exit_code is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                exit_code = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                exit_code = "killed after 30 s"
        t_exit = time.monotonic()
        time.sleep(0.05)
        t_stopping = self.notify.first("STOPPING=1")
        self.notify.close()
        self._log.close()
        return {"exit_code": exit_code, "seconds": round(t_exit - t_term, 3), "stopping_notified": t_stopping is not None}

    def log_errors(self) -> tuple[int, int]:
        """ERROR/CRITICAL lines and tracebacks in the daemon's log, and the log's size in bytes."""
        text = self.log_path.read_text(errors="replace")
        return sum(1 for line in text.splitlines() if " ERROR " in line or " CRITICAL " in line
                   or line.startswith("Traceback")), len(text)


def peak_mb(memory: dict) -> float:
    return max(memory["vmhwm_kb"] or 0, memory["vmrss_peak_sampled_kb"]) / 1024


def exit_status(broken: list[str]) -> int:
    """1 after printing what broke, else 0 (a benchmark's figures never fail it)."""
    for line in broken:
        print(f"BROKEN: {line}", file=sys.stderr)
    return 1 if broken else 0


def keep_or_remove(results: dict, json_path: str | None, keep: bool, workdir: Path) -> None:
    """Write the figures as JSON where asked; keep the temporary folder where asked, else remove it."""
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2) + "\n")
    if keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
