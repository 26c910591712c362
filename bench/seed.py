"""Seeding helper for bench/inbound.py: runs many ``gateway`` CLI commands in one interpreter.

Each command goes through ``gateway.cli.main(argv)``, the console script's own entry point,
so it is exactly ``gateway site add ...`` / ``gateway contact add ...`` without paying
Python's start-up (~0.3 s) per command. Reads a JSON list of argv lists on stdin, prints a
JSON list of ``{"rc", "out", "err"}`` on stdout.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from gateway.cli import main as gateway_main


def main() -> int:
    commands = json.load(sys.stdin)
    results = []
    for argv in commands[:10_000]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = gateway_main(argv)
            except SystemExit as exc:  # argparse errors
                rc = exc.code if isinstance(exc.code, int) else 2
        results.append({"rc": rc, "out": out.getvalue(), "err": err.getvalue()})
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
