"""The ``gateway`` command line: the parser and the one place a command's error becomes an exit code."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys

from gateway import __version__
from gateway.config import load_config
from gateway.errors import ConfigurationError, GatewayError
from gateway.config.secrets import masked_url


def build_parser() -> argparse.ArgumentParser:
    from gateway.cli import admin, db, live, trace

    # What every subcommand takes, given to each as a parent parser.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config", metavar="FILE", help="config file (default: $GATEWAY_CONFIG, "
                        "config/gateway.yaml, built-in defaults)")
    parser = argparse.ArgumentParser(prog="gateway", description="SMS gateway for alarm-monitoring central stations.")
    parser.add_argument("--version", action="version", version=f"gateway {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", parents=[common], help="run the daemon in the foreground")
    p.set_defaults(run=live.serve)
    p = sub.add_parser("check", parents=[common], help="validate the config and keywords.yaml; exit 1 when invalid")
    p.set_defaults(run=admin.check)
    p = sub.add_parser("migrate", parents=[common], help="create or upgrade the database schema")
    p.set_defaults(run=admin.migrate)
    for register in (admin.register, live.register, db.register, trace.register):
        register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigurationError as exc:
        for problem in getattr(exc, "problems", None) or [exc.message]:
            print(f"error: {problem}", file=sys.stderr)
        return 1 if args.command == "check" else 2
    try:
        return asyncio.run(args.run(config, args)) or 0
    except KeyboardInterrupt:
        return 130
    except GatewayError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error) as exc:  # a folder that cannot be made, a database that cannot be opened
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        hint = f"; database.url is {masked_url(config.database.url)}" if isinstance(exc, sqlite3.Error) else ""
        print(f"error: {getattr(exc, 'strerror', None) or exc}{where}{hint}", file=sys.stderr)
        return 2
