"""systemd notify protocol (sd_notify(3)) implemented by hand, without a dependency.

The service manager passes an AF_UNIX datagram socket in NOTIFY_SOCKET; each
notification is one datagram of newline-separated ``KEY=VALUE`` lines.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends state notifications to systemd; a no-op when not started by systemd."""

    def __init__(self, address: str | bytes | None, watchdog_usec: int | None = None) -> None:
        """``address``: socket path (``@name`` = abstract namespace); ``watchdog_usec``: WATCHDOG_USEC."""
        if isinstance(address, str) and address.startswith("@"):
            address = "\0" + address[1:]
        self.address = address or None
        self._watchdog_usec = watchdog_usec if watchdog_usec and watchdog_usec > 0 else None
        self._warned = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Notifier:
        """Build from NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (watchdog only if the pid is ours)."""
        address = env.get("NOTIFY_SOCKET") or None
        if address is not None and not address.startswith(("/", "@")):
            log.warning("ignoring NOTIFY_SOCKET=%r: not an absolute path or @abstract name", address)
            address = None
        usec: int | None = None
        pid = env.get("WATCHDOG_PID")
        if pid is None or pid.strip() == str(os.getpid()):
            try:
                usec = int(env.get("WATCHDOG_USEC", ""))
            except ValueError:
                usec = None
        return cls(address, usec)

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between watchdog pings (half of WATCHDOG_USEC), or None when the watchdog is off."""
        return None if self._watchdog_usec is None else self._watchdog_usec / 2_000_000

    def notify(self, *lines: str) -> bool:
        """Send ``KEY=VALUE`` lines as one datagram; False (never an exception) if not delivered."""
        if self.address is None or not lines:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.setblocking(False)
                sock.sendto("\n".join(lines).encode(), self.address)
            return True
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("sd_notify to %r failed: %s (further failures not logged)", self.address, exc)
            return False

    def ready(self, status: str | None = None) -> bool:
        """Tell systemd start-up is complete (READY=1), optionally with a STATUS= text."""
        return self.notify("READY=1", *([f"STATUS={status}"] if status is not None else []))

    def stopping(self) -> bool:
        """Tell systemd the service is shutting down (STOPPING=1)."""
        return self.notify("STOPPING=1")

    def reloading(self) -> bool:
        """Tell systemd a reload started (RELOADING=1 + MONOTONIC_USEC, Type=notify-reload); send ready() after."""
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")

    def watchdog(self) -> bool:
        """Keep-alive ping for WatchdogSec= (WATCHDOG=1)."""
        return self.notify("WATCHDOG=1")

    def status(self, text: str) -> bool:
        """Set the free-form status line shown by ``systemctl status`` (STATUS=)."""
        return self.notify(f"STATUS={text}")


async def watchdog_loop(notifier: Notifier, stop: asyncio.Event) -> None:
    """Send WATCHDOG=1 every ``watchdog_interval`` seconds until ``stop`` is set; returns at once if off."""
    interval = notifier.watchdog_interval
    if interval is None:
        return
    while not stop.is_set():
        notifier.watchdog()
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
