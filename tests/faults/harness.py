"""Around a real daemon under a fault: a seeded site, requests that outlive the daemon's death, and what it
sent read back through its public paths (the loopback outbox, the event log)."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
import urllib.error
from dataclasses import dataclass

from gateway.clock import Clock
from gateway.model import Contact, Site
from gateway.stores import open_store
from tests.daemon import Daemon

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


def seed_site(d: Daemon, contacts: int) -> str:
    """A site with ``contacts`` auto-notify SMS contacts (``phone(0)``...), written through the store's own API
    (the CLI takes a quarter of a second a contact)."""

    async def seed() -> str:
        store = open_store(f"sqlite:///{d.db}")
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
    """``predicate()``'s first true value, polled every 50 ms for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not in {seconds:.0f} s: {what}")


def outbox_depth(d: Daemon) -> float:
    """Messages queued or being sent, as /metrics tells (read from the store at each scrape)."""
    status, body = d.request("GET", "/metrics")
    assert status == 200
    return float(next(line.split()[1] for line in body.decode().splitlines()
                      if line.startswith("gateway_outbox_depth ")))
