"""Outbox drain at a carrier pace with 1 and 3 daemons on one PostgreSQL: does the pace hold?

    .venv/bin/python bench/cluster_pace.py                   # 5,000 texts at 100/s, 1 then 3 daemons: ~2 min
    .venv/bin/python bench/cluster_pace.py --texts 1000 --rate 50

Real ``gateway serve`` processes send from one number to the fake Twilio (tests/fake_twilio.py, on 127.0.0.1,
which the real twilio library talks to) at ``carrier.twilio.max_per_second: --rate``; alarms to a site of 50
contacts are posted round-robin across the daemons. Prints, per run, the segments per second the fake Twilio
saw from the first text to the last (the pace holds when it is at most the rate) and the texts each daemon
sent. The database is created for the run (tests/postgres.py's server) and dropped at the end. Exit 0 when the
runs completed, whatever the figures; 1 when one broke.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults import test_cluster_pace  # noqa: E402
from tests.postgres import admin, database_url  # noqa: E402

CONTACTS = 50


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--daemons", default="1,3")
    args = parser.parse_args(argv)
    name = "gw_bench_" + secrets.token_hex(4)
    admin(f"CREATE DATABASE {name}")
    failed = False
    try:
        for count in (int(c) for c in args.daemons.split(",")):
            schema = "p_" + secrets.token_hex(4)
            admin(f"CREATE SCHEMA {schema}", database_url(name))
            alarms_each = max(1, round(args.texts / CONTACTS / count))
            try:
                with tempfile.TemporaryDirectory(prefix="gateway-cluster-pace-") as tmp:
                    result = test_cluster_pace.run(Path(tmp), database_url(name, schema), daemons=count,
                                                   contacts=CONTACTS, alarms_each=alarms_each, rate=args.rate)
                held = "holds" if result.rate <= args.rate * 1.01 else "EXCEEDED"
                print(f"{result.line(count, args.rate)}: pace {held}", flush=True)
            except Exception:
                failed = True
                print(f"{count} daemon(s) broke:\n{traceback.format_exc()}", flush=True)
    finally:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
