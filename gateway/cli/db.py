"""``gateway db``: whole-database operations (``db copy``: a store into another database, any engine), and
what ``gateway check`` says of the database."""

from __future__ import annotations

import argparse
import sys
import time

from gateway.config import Config
from gateway.errors import ConfigurationError, GatewayError
from gateway.stores import Store, configured_store, open_store
from gateway.stores.copy import copy_store


def register(sub, common: argparse.ArgumentParser) -> None:
    db = sub.add_parser("db", help="whole-database operations").add_subparsers(dest="action", required=True)
    p = db.add_parser("copy", parents=[common],
                      help="copy every table of one store into another database (stop the daemons first)",
                      description="Copy sites, contacts, PIN hashes, API keys, OAuth clients, verifications, the "
                                  "outbox, the event log, opt-outs and webhook queues, ids kept. Both databases are "
                                  "migrated first. Passwords: in the URL, else $PGPASSWORD (database.password_file "
                                  "for the URL the config names).")
    p.add_argument("--from", dest="source", required=True, metavar="URL", help="e.g. sqlite:///var/gateway.sqlite3")
    p.add_argument("--to", dest="target", required=True, metavar="URL", help="e.g. postgresql://gateway@db/gateway")
    p.add_argument("--force", action="store_true", help="empty a target that holds data first (else refused)")
    p.set_defaults(run=copy)


def _store(config: Config, url: str) -> Store:
    return configured_store(config) if url == config.database.url else open_store(url)


async def copy(config: Config, args: argparse.Namespace) -> int:
    if args.source == args.target:
        raise GatewayError("--from and --to name the same database")
    source, target = _store(config, args.source), _store(config, args.target)
    await source.open()
    try:
        await target.open()
        try:
            started = time.monotonic()
            copied = await copy_store(source, target, force=args.force, progress=_progress)
        finally:
            await target.close()
    finally:
        await source.close()
    for table, rows in copied.items():
        print(f"{table}\t{rows}")
    print(f"ok: {sum(copied.values())} rows in {len(copied)} tables from {source.description} to "
          f"{target.description} in {time.monotonic() - started:.1f}s")
    return 0


def _progress(table: str, done: int, total: int) -> None:
    """One line on stderr, rewritten in place on a terminal."""
    line = f"copying {table}: {done}/{total}"
    if sys.stderr.isatty():
        print(f"\r\033[K{line}", end="" if done < total else "\n", file=sys.stderr, flush=True)
    elif done == total:
        print(line, file=sys.stderr)


async def check_database(config: Config) -> tuple[str | None, str | None]:
    """What ``check`` says of the database: a line saying its server answers, and the problem (each or None).
    A PostgreSQL server is asked what it is (nothing is migrated); a SQLite file is left alone."""
    try:
        store = configured_store(config)
    except ConfigurationError as exc:
        return None, exc.message
    if config.database.engine == "sqlite":
        return None, None
    try:
        return f"database {store.description} answers: {await store.probe()}", None
    except GatewayError as exc:  # refused, timed out, login refused, no such database: one line, no traceback
        return None, exc.message if exc.message.startswith("database.url") else f"database.url: {exc.message}"
