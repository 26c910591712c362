"""N real ``gateway serve`` processes on one fresh PostgreSQL database, and what tests do with them.

Each daemon runs in a folder of its own (``tmp/a``, ``tmp/b`` ...) with the same settings, so what one
commits the others see. Seeding goes through the first daemon's CLI (``gateway site add`` ...), before
or after the start. ``Cluster.go(...)`` fires calls at several daemons at the same moment (a thread
each, released together by a barrier), which is how the races of a load balancer are reproduced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.conftest import PHONE
from tests.daemon import Daemon, call, wait_for  # noqa: F401 (the cluster tests take them from here)


class Cluster:
    def __init__(self, tmp: Path, url: str, count: int = 2, **overrides: Any) -> None:
        database = {"url": url, **overrides.pop("database", {})}
        self.url = url
        self.daemons = []
        for name in "abcdefgh"[:count]:
            (tmp / name).mkdir(parents=True)
            self.daemons.append(Daemon(tmp / name, database=database, **overrides))

    def __getitem__(self, index: int) -> Daemon:
        return self.daemons[index]

    def __iter__(self):
        return iter(self.daemons)

    @property
    def first(self) -> Daemon:
        return self.daemons[0]

    def start(self) -> None:
        """Migrate once, then start every daemon (each waits for its READY=1)."""
        self.first.cli("migrate")
        for daemon in self.daemons:
            daemon.start()

    def stop(self) -> list[int]:
        return [daemon.stop() for daemon in self.daemons]

    def close(self) -> None:
        for daemon in self.daemons:
            daemon.close()

    def key(self) -> str:
        """An API key every daemon accepts (made in the shared database)."""
        if not hasattr(self, "_key"):
            self._key = self.first.cli("api-key", "add", "--name", "cluster tests").stdout.strip()
        return self._key

    @staticmethod
    def go(calls: Sequence[Callable[[], Any]]) -> list[Any]:
        """Run every call at once, each on a thread of its own; their results in order (an exception
        raised by one is raised here)."""
        barrier = threading.Barrier(len(calls))
        results: list[Any] = [None] * len(calls)
        errors: list[BaseException] = []

        def run(i: int, call: Callable[[], Any]) -> None:
            barrier.wait(timeout=30)
            try:
                results[i] = call()
            except BaseException as exc:  # handed to the test below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        if errors:
            raise errors[0]
        return results




def text(d: Daemon, body: str, phone: str = PHONE, message_id: str | None = None) -> list[str]:
    """A text from ``phone`` through the loopback carrier of daemon ``d``: the replies it answers inline."""
    payload = {"from": phone, "body": body, **({"message_id": message_id} if message_id else {})}
    status, answer = call(d, "POST", "/carriers/loopback/inbound", payload)
    assert status == 200, answer
    return answer["replies"]


def seed_site(d: Daemon, *contacts: tuple[str, str], name: str = "Main Office") -> str:
    """A site with a contact per ``(first name, phone)`` (auto-notified); its id."""
    site_id = d.cli("site", "add", "--dealer", "12345", "--name", name).stdout.split("\t")[0]
    for first, phone in contacts or (("John", PHONE),):
        d.cli("contact", "add", "--site", site_id, "--first-name", first, "--last-name", "Doe", "--phone", phone,
              "--auto-notify")
    return site_id


def event_log(d: Daemon, key: str, site_id: str, after: int | None = None, limit: int = 100) -> dict:
    query = f"site_id={site_id}&limit={limit}" + (f"&after={after}" if after is not None else "")
    status, page = call(d, "GET", f"/ext/v1/event-log?{query}", key=key)
    assert status == 200, page
    return page


def outbox(d: Daemon, phone: str) -> list[dict]:
    return call(d, "GET", f"/carriers/loopback/outbox?to={phone}")[1]["messages"]




class Subscriber:
    """A webhook subscriber on 127.0.0.1 in a thread of its own (the daemons are other processes): checks
    every signature as the README says, keeps each delivery, answers ``status`` (200)."""

    def __init__(self, folder: Path) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from tests.webhook_receiver import SECRET, verify

        self.secret_file = folder / "webhook.secret"
        self.secret_file.write_text(SECRET + "\n")
        self.received: list[tuple[str, dict]] = []  # (X-Gateway-Event-Id, payload)
        self.status = 200
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                payload = verify(SECRET, self.headers["X-Gateway-Signature"], body, time.time())
                subscriber.received.append((self.headers["X-Gateway-Event-Id"], payload))
                self.send_response(subscriber.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/all"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def settings(self) -> list[dict]:
        """The ``webhooks`` setting that subscribes to everything."""
        return [{"url": self.url, "secret_file": str(self.secret_file), "timeout_seconds": 2}]

    def events(self, event_type: str) -> list[dict]:
        return [p["data"] for _, p in self.received if p["event_type"] == event_type]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
