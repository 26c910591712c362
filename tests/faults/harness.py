"""Around a real daemon under a fault: a seeded site, requests that outlive the daemon's death, and what it
sent read back through its public paths (the loopback outbox, the event log)."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
import urllib.error
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.clock import Clock
from gateway.model import Contact, Site
from gateway.stores import open_store
from tests.daemon import Daemon, wait_for
from tests.postgres import Proxy

DOWN = (urllib.error.URLError, ConnectionError, http.client.HTTPException, TimeoutError, FileNotFoundError)


@dataclass
class Figures:
    """One line of the campaign's table: texts the carrier got (once each), committed texts it never got and
    that were not given up on (SMSSTALE), extra copies it got, copies it got after their validity."""

    fault: str
    sent: int
    lost: int
    duplicated: int
    late: int
    note: str = ""


def phone(n: int) -> str:
    return f"+1555013{n:04d}"


def seed_site(d: Daemon | str, contacts: int) -> str:
    """A site with ``contacts`` auto-notify SMS contacts (``phone(0)``...), written through the store's own API
    (the CLI takes a quarter of a second a contact); ``d`` a daemon on SQLite or a database URL."""

    async def seed() -> str:
        store = open_store(d if isinstance(d, str) else f"sqlite:///{d.db}")
        await store.open()
        try:
            now = Clock().now()
            site = await store.add_site(Site(id="site_main", dealer_id="12345", name="Main Office", time_zone="UTC",
                                             created_at=now))
            for n in range(contacts):
                await store.add_contact(Contact(id=0, site_id=site.id, first_name=f"C{n}", last_name="Doe",
                                                phone=phone(n), auto_notify=True, created_at=now))
            return site.id
        finally:
            await store.close()

    return asyncio.run(seed())


def call(d: Daemon, method: str, path: str, payload: dict | None = None, *, seconds: float = 30.0):
    """A JSON request with the operator key, tried again while the daemon is down (killed, restarting): the
    status and the decoded body."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            headers = {"Authorization": f"Bearer {d.operator_key()}", "Content-Type": "application/json"}
            status, body = d.request(method, path, json.dumps(payload).encode() if payload is not None else None,
                                     headers)
            return status, json.loads(body) if body else None
        except DOWN:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def paged(d: Daemon, path: str, key: str, *, limit: int, pages: int = 200) -> list[dict]:
    """Every row of a cursor-paged listing (``after``/``next_after``)."""
    rows: list[dict] = []
    after = 0
    for _ in range(pages):
        sep = "&" if "?" in path else "?"
        status, body = call(d, "GET", f"{path}{sep}after={after}&limit={limit}")
        assert status == 200, body
        rows += body[key]
        if not body[key] or body["next_after"] is None or body.get("has_more") is False:
            return rows
        after = body["next_after"]
    raise AssertionError(f"{path}: more than {pages} pages")


def loopback_sent(d: Daemon) -> list[dict]:
    """What the loopback carrier was handed, oldest first (``outbound_id`` names the outbox message)."""
    return paged(d, "/carriers/loopback/outbox", "messages", limit=1000)


def event_log(d: Daemon, site: str, code: str | None = None) -> list[dict]:
    rows = paged(d, f"/ext/v1/event-log?site_id={site}", "data", limit=500)
    return [r for r in rows if code is None or r["code"] == code]


def wait_until(predicate, what: str, seconds: float = 60.0):
    """tests.daemon.wait_for with the fault scenarios' longer bound."""
    return wait_for(predicate, what, seconds)


def outbox_depth(d: Daemon) -> float:
    """Messages queued or being sent, as /metrics tells (read from the store at each scrape)."""
    status, body = d.request("GET", "/metrics")
    assert status == 200
    return float(next(line.split()[1] for line in body.decode().splitlines()
                      if line.startswith("gateway_outbox_depth ")))


# Several daemons on one PostgreSQL database

def cluster(tmp: Path, url: str, count: int, **overrides) -> list[Daemon]:
    """``count`` daemons (not started) sharing the database at ``url``, each with its own folder and port."""
    database = {"url": url, **overrides.pop("database", {})}
    daemons = []
    for n in range(count):
        (tmp / f"node{n}").mkdir(parents=True, exist_ok=True)
        daemons.append(Daemon(tmp / f"node{n}", database=database, **overrides))
    return daemons


def start_all(daemons: list[Daemon]) -> None:
    for d in daemons:
        d.start()


def close_all(daemons: list[Daemon]) -> None:
    for d in daemons:
        d.close()


def ready(d: Daemon) -> int:
    """The daemon's /readyz status (0 when it does not answer at all)."""
    try:
        return d.request("GET", "/readyz")[0]
    except DOWN:
        return 0


class Background:
    """An event loop on a thread of its own, for the asyncio helpers (a relay, a store) of synchronous tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="background-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], seconds: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(seconds)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


class RelayedDatabase:
    """tests.postgres.Proxy for synchronous tests: ``url`` reaches the database through a relay that
    ``cut()`` makes unreachable (every connection reset) and ``restore()`` brings back on the same port."""

    def __init__(self, url: str, background: Background) -> None:
        self.background = background
        self.proxy = Proxy()
        background.run(self.proxy.start())
        self.url = self.proxy.url(url)

    def cut(self) -> None:
        self.background.run(self.proxy.cut())

    def restore(self) -> None:
        self.background.run(self.proxy.restore())
