"""Instructions per inbound text, counted by valgrind's callgrind: a CPU cost that load on the machine does not move.

    .venv/bin/python bench/instructions.py                     # 1000 texts of each kind, about 3 minutes
    .venv/bin/python bench/instructions.py --texts 300 --kinds help
    .venv/bin/python bench/instructions.py --gateway /tmp/base/gw   # another tree's gateway, for a before/after

Starts ``gateway serve`` under ``valgrind --tool=callgrind --instr-atstart=no`` (start-up runs uninstrumented),
seeds it as bench/inbound.py does, sends ``--warmup`` texts, then for each kind (the chatter mix, HELP from
unknown numbers) switches instrumentation on with ``callgrind_control``, sends ``--texts`` texts from the load
client (``--concurrency`` in flight), dumps the counts and switches it off again. Printed: instructions (Ir)
of every thread of the daemon per text, and by thread (01 is the event loop's; the SQLite connections'
threads follow). Idle work in the same window (timers, the sender's poll) is counted
too; with a few hundred texts it is well under 1%. Exit 0 when it ran, 1 when something broke.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import BenchError, Daemon, gateway_script, run_client

from inbound import seed, write_plans

TOTALS = re.compile(r"^summary: (\d+)", re.M)


def control(*args: str) -> str:
    done = subprocess.run(["callgrind_control", *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise BenchError(f"callgrind_control {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def dumped_instructions(folder: Path, before: set[Path]) -> dict[str, int]:
    """Ir of the dump files callgrind wrote since ``before``, by thread (``-NN`` suffix: the thread's number)."""
    by_thread: dict[str, int] = {}
    for path in sorted(set(folder.glob("callgrind.out*")) - before):
        match = TOTALS.search(path.read_text(errors="replace"))
        if match:
            thread = path.name.rsplit("-", 1)[1] if "-" in path.name else "all"
            by_thread[thread] = by_thread.get(thread, 0) + int(match.group(1))
    return by_thread


def measure(args: argparse.Namespace, workdir: Path, log) -> dict:
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise BenchError("valgrind (with callgrind_control) is not installed: apt-get install valgrind")
    out = workdir / "cg"
    out.mkdir()
    wrapper = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--trace-children=no", "--separate-threads=yes",
               f"--callgrind-out-file={out}/callgrind.out.%p"]
    d = Daemon(gateway_script(args.gateway), workdir / "daemon", f"sqlite:///{workdir}/daemon/gateway.sqlite3",
               keywords=args.keywords, wrapper=wrapper)
    results: dict = {}
    try:
        results["startup"] = d.wait_started(timeout=args.start_timeout)
        phones, _ = seed(d, args, log)
        plans = write_plans(workdir, phones)
        url = d.base + "/carriers/loopback/inbound"
        for kind in args.kinds.split(","):
            run_client(url, plans[kind], mode="closed", prefix=f"warm-{kind}", count=args.warmup,
                       concurrency=args.concurrency, max_seconds=600)
            before = set(out.glob("callgrind.out*"))
            control("--zero", str(d.pid))
            control("--instr=on", str(d.pid))
            r = run_client(url, plans[kind], mode="closed", prefix=f"cg-{kind}", count=args.texts,
                           concurrency=args.concurrency, max_seconds=600)
            control("--dump", str(d.pid))
            control("--instr=off", str(d.pid))
            time.sleep(0.5)
            threads = dumped_instructions(out, before)
            ir = sum(threads.values())
            results[kind] = {"texts": r["ok"], "errors": r["errors"], "instructions": ir,
                             "per_text": round(ir / max(1, r["ok"])),
                             "per_text_by_thread": {t: round(n / max(1, r["ok"])) for t, n in threads.items()}}
            log(f"{kind}: {r['ok']} texts, {ir:,} instructions, {ir / max(1, r['ok']):,.0f} per text; by thread "
                + ", ".join(f"{t}: {n:,}" for t, n in results[kind]["per_text_by_thread"].items()))
    finally:
        d.stop()
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--texts", type=int, default=1000, help="texts counted per kind (default 1000)")
    p.add_argument("--warmup", type=int, default=200, help="uncounted texts before each kind (default 200)")
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    p.add_argument("--kinds", default="mix,help", help="comma-separated: mix (chatter mix), help (HELP from unknown)")
    p.add_argument("--sites", type=int, default=5)
    p.add_argument("--contacts-per-site", type=int, default=2)
    p.add_argument("--events-per-site", type=int, default=3)
    p.add_argument("--keywords", default=str(Path(__file__).resolve().parent.parent / "keywords.yaml"))
    p.add_argument("--gateway", help="path of the `gateway` console script (default: beside this Python)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder with callgrind's dumps")
    p.add_argument("--start-timeout", type=float, default=180.0, help="seconds the daemon may take to start under "
                   "valgrind (default 180)")
    args = p.parse_args()
    if not set(args.kinds.split(",")) <= {"mix", "help"} or args.texts <= 0:
        p.error("--kinds takes mix and/or help; --texts must be positive")

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="gwinstr-"))
    try:
        results = measure(args, workdir, log)
    except (BenchError, subprocess.SubprocessError, OSError) as exc:
        print(f"benchmark broke: {exc} (kept {workdir})", file=sys.stderr)
        return 1
    if args.keep:
        print(f"kept {workdir} (callgrind_annotate {workdir}/cg/callgrind.out.*)")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print("kind   texts  instructions per text")
    for kind in args.kinds.split(","):
        print(f"{kind:<6} {results[kind]['texts']:>5}  {results[kind]['per_text']:>21,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
