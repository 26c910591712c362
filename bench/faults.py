"""The fault campaign's long versions (issue 12): one table of what was sent, lost, duplicated and late.

    .venv/bin/python bench/faults.py                      # every fault, long: about 4 minutes on 2 cores
    .venv/bin/python bench/faults.py --only kill,outage   # some of them
    .venv/bin/python bench/faults.py --quick              # the sizes tests/faults/ runs in CI

Each line runs the scenario of tests/faults/ (real daemons, the fake Twilio on 127.0.0.1, the loopback
carrier) with bigger numbers: 10 kills of a 1,000-text burst; a 60 s carrier outage under a burst of 300;
a full disk for 30 s under 300 retried webhooks (needs root to mount a tmpfs: skipped otherwise); a 10 s
SIGSTOP; 1,000 idle and 350 slow clients around a burst of 500 signed webhooks. Columns: texts (or webhooks)
the carrier (or the gateway) took once, committed ones never taken, extra copies, copies taken after their
validity. Exit 0 when every scenario completed, whatever the figures; 1 when one broke (its line says how).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults import (  # noqa: E402
    test_carrier_outage, test_full_disk, test_hostile_clients, test_kill_burst, test_stopped_process,
)
from tests.faults.harness import Figures  # noqa: E402


def full_disk(tmp: Path, **sizes) -> Figures:
    try:
        with test_full_disk.tmpfs(tmp / "disk") as disk:
            return test_full_disk.run(tmp, disk, **sizes).figures
    except test_full_disk.NoTmpfs as why:
        return Figures("full disk", sent=0, lost=0, duplicated=0, late=0, note=f"skipped: {why}")


# name -> (run it, long sizes, quick sizes)
FAULTS = {
    "kill": (lambda tmp, **sizes: test_kill_burst.run(tmp, **sizes).figures, {"kills": 10}, {"kills": 4}),
    "outage": (lambda tmp, **sizes: test_carrier_outage.run(tmp, **sizes).figures,
               {"refusing": 30.0, "silent": 30.0, "contacts": 50, "dispatches": 5}, {}),
    "disk": (full_disk, {"full_seconds": 30.0, "webhooks": 300}, {}),
    "stop": (lambda tmp, **sizes: test_stopped_process.run(tmp, **sizes).figures,
             {"stopped": 10.0, "contacts": 40}, {}),
    "clients": (lambda tmp, **sizes: test_hostile_clients.run(tmp, **sizes).figures,
                {"idle": 1000, "slowloris": 300, "slow_bodies": 50, "burst": 500}, {}),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(FAULTS), help=f"comma-separated, of: {', '.join(FAULTS)}")
    parser.add_argument("--quick", action="store_true", help="the sizes the tests run")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s): {', '.join(unknown)}")
    rows, broke = [], False
    for name in chosen:
        run, long, quick = FAULTS[name]
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"faults-{name}-") as tmp:
            try:
                figures = run(Path(tmp), **(quick if args.quick else long))
            except Exception as exc:  # the scenario broke: say how, go on with the others
                traceback.print_exc()
                figures, broke = Figures(name, sent=0, lost=0, duplicated=0, late=0, note=f"BROKE: {exc!r:.200}"), True
        rows.append((figures, time.monotonic() - started))
        print(f"{name}: done in {rows[-1][1]:.0f} s", file=sys.stderr, flush=True)
    header = ("fault", "sent", "lost", "duplicated", "late", "seconds", "what happened")
    table = [header] + [(f.fault, str(f.sent), str(f.lost), str(f.duplicated), str(f.late), f"{s:.0f}", f.note)
                        for f, s in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 1 if broke else 0


if __name__ == "__main__":
    sys.exit(main())
