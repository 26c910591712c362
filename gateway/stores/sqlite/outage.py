"""When the SQLite file cannot be written (disk full, I/O error, read-only): StoreUnavailable, logged once."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from gateway.clock import Clock
from gateway.errors import StoreUnavailable

log = logging.getLogger("gateway.store")
# The file system's state, not the request's: the same write succeeds once space (or the disk) is back.
UNWRITABLE = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY}


def unwritable(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF in UNWRITABLE


class WriteOutage:
    """Whether writes to ``path`` fail for want of a writable file: an ERROR line when they start failing, a
    WARNING when they work again, so a full disk under a flood of webhooks is two lines, not a traceback each."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self.since: float | None = None  # monotonic seconds of the first failed write, None while writes work
        self.written: float | None = None  # monotonic seconds of the last write that changed something

    def check(self, exc: BaseException) -> None:
        """Raise StoreUnavailable from ``exc`` when it says the file cannot be written; else return."""
        if not unwritable(exc):
            return
        if self.since is None:
            self.since = self.clock.monotonic()
            log.error("store: %s cannot be written (%s); webhooks and API writes answer 503 and /readyz is 503 "
                      "until it can (what was committed is kept)", self.path, exc)
        raise StoreUnavailable() from exc

    def recently_written(self, seconds: float) -> bool:
        """Whether a write succeeded in the last ``seconds`` and none failed since."""
        return self.since is None and self.written is not None and self.clock.monotonic() - self.written < seconds

    def succeeded(self) -> None:
        self.written = self.clock.monotonic()
        if self.since is not None:
            log.warning("store: %s takes writes again after %.0f s", self.path, self.clock.monotonic() - self.since)
            self.since = None
