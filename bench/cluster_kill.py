"""The kill test's full size: three daemons on one PostgreSQL, 3,000 alarm texts posted across them, one daemon
SIGKILLed mid-burst (tests/faults/test_cluster_kill.py runs 300).

    .venv/bin/python bench/cluster_kill.py             # 60 alarms x 50 contacts: about a minute on 2 cores
    .venv/bin/python bench/cluster_kill.py --alarms 20 # smaller

Prints one line: texts sent (distinct), lost, sent twice, how many the killed daemon held claimed when it died
(the bound on "twice"), sent after their validity, how soon the survivors took its claims over. The database is
created for the run on the PostgreSQL server of tests/postgres.py and dropped at the end. Exit 0 when the run
completed, whatever the figures; 1 when it broke.
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

from tests.faults import test_cluster_kill  # noqa: E402
from tests.postgres import admin, database_url  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alarms", type=int, default=60)
    parser.add_argument("--contacts", type=int, default=50)
    parser.add_argument("--kill-after", type=float, default=4.0,
                        help="seconds after the first text reached the carrier")
    args = parser.parse_args(argv)
    name = "gw_bench_" + secrets.token_hex(4)
    admin(f"CREATE DATABASE {name}")
    try:
        with tempfile.TemporaryDirectory(prefix="gateway-cluster-kill-") as tmp:
            result = test_cluster_kill.run(Path(tmp), database_url(name), alarms=args.alarms,
                                           contacts=args.contacts, kill_after=args.kill_after)
        print(result.line())
        return 0
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
