"""One daemon per SQLite file: a second ``gateway serve`` on the same file refuses to start.

The SQLite engine takes back every outbox lease at start (gateway/stores/connector.py,
``exclusive``); two daemons would each take the other's and send the same texts twice. An
exclusive ``flock`` on ``gateway.lock`` beside the file is held for the daemon's life; the
kernel drops it when the process dies, even by ``kill -9``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from gateway.errors import ConfigurationError


@contextlib.contextmanager
def held(path: Path) -> Iterator[None]:
    """Hold the daemon lock at ``path``; ConfigurationError naming the holder's pid when it is taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise ConfigurationError(f"another gateway (pid {holder}) is serving this database ({path} is locked); "
                                     "stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
