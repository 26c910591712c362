"""py-spy profile of the daemon for one kind of text only (the chatter mix or HELP from unknown numbers).

    .venv/bin/python bench/profile_kind.py --kind help --texts 20000 --out /tmp/help.txt [--opts "--gil"]
    .venv/bin/python bench/pyspy_summary.py /tmp/help.txt --top 60

Seeds as bench/inbound.py does, warms up, then records ``py-spy record --format raw`` (folded stacks) while
the load client sends ``--texts`` texts of the kind. Exit 0 when it ran, 1 when something broke.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from harness import BenchError, Daemon, PySpy, gateway_script, run_client

from inbound import seed, write_plans


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", choices=("mix", "help"), default="help")
    p.add_argument("--texts", type=int, default=20000)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--out", required=True, help="folded stacks (.txt), speedscope (.json) or flame graph (.svg)")
    p.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    p.add_argument("--opts", default="--gil", help="py-spy record options (default --gil)")
    p.add_argument("--sites", type=int, default=5)
    p.add_argument("--contacts-per-site", type=int, default=2)
    p.add_argument("--events-per-site", type=int, default=3)
    p.add_argument("--keywords", default=str(Path(__file__).resolve().parent.parent / "keywords.yaml"))
    p.add_argument("--gateway", help="path of the `gateway` console script (default: beside this Python)")
    args = p.parse_args()

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="gwprof-"))
    d = Daemon(gateway_script(args.gateway), workdir / "daemon", f"sqlite:///{workdir}/daemon/gateway.sqlite3",
               keywords=args.keywords)
    try:
        d.wait_started()
        phones, _ = seed(d, args, log)
        plan = write_plans(workdir, phones)[args.kind]
        url = d.base + "/carriers/loopback/inbound"
        run_client(url, plan, mode="closed", prefix="warm", count=args.warmup, concurrency=args.concurrency,
                   max_seconds=120)
        spy = PySpy(d.pid, args.out, args.rate, args.opts.split())
        r = run_client(url, plan, mode="closed", prefix="prof", count=args.texts, concurrency=args.concurrency,
                       max_seconds=300)
        log(f"{r['ok']} ok / {r['errors']} errors; py-spy: {spy.stop()}")
    except (BenchError, OSError) as exc:
        print(f"benchmark broke: {exc} (kept {workdir})", file=sys.stderr)
        return 1
    finally:
        d.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
