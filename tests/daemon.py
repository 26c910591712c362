"""A real ``gateway serve`` subprocess for tests: its config, its notify socket, its life and death."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from tests.conftest import KEYWORDS, free_port


class Daemon:
    def __init__(self, tmp: Path, **overrides) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.db = tmp / "gateway.sqlite3"
        self.db_url = f"sqlite:///{self.db}"
        settings = {
            "http": {"port": self.port, "public_url": f"http://127.0.0.1:{self.port}"},
            "database": {"url": self.db_url},
            "keywords": str(overrides.pop("keywords", KEYWORDS)),
            "outbox": {"poll_seconds": 0.1, "drain_seconds": 2.0},
        }
        for key, value in overrides.items():
            settings.setdefault(key, {}).update(value) if isinstance(value, dict) else settings.__setitem__(key, value)
        self.config = tmp / "gateway.yaml"
        self.config.write_text(yaml.safe_dump(settings))
        self.notify_path = tmp / "notify.sock"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(self.notify_path))
        self.notify.settimeout(10)
        self.proc: subprocess.Popen | None = None
        self.log = tmp / "daemon.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "gateway", *args, "-c", str(self.config)], input=input,
                                capture_output=True, text=True, timeout=60, cwd=self.tmp)
        if check and result.returncode != 0:
            raise AssertionError(f"gateway {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def start(self, preexec_fn=None) -> list[str]:
        """Start and wait for READY=1; the notify lines received before it. ``preexec_fn`` runs in the child
        before it starts (to lower its resource limits, say)."""
        env = {**os.environ, "NOTIFY_SOCKET": str(self.notify_path)}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "-c", str(self.config)],
                                         stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.tmp,
                                         preexec_fn=preexec_fn)
        return self.wait_notify("READY=1")

    def wait_notify(self, wanted: str) -> list[str]:
        seen = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                data = self.notify.recv(4096).decode()
            except socket.timeout:
                break
            seen.extend(data.splitlines())
            if wanted in data.splitlines():
                return seen
        raise AssertionError(f"no {wanted} from the daemon; got {seen}; log:\n{self.log.read_text()}")

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def operator_key(self) -> str:
        from gateway.config import load_config
        from gateway.web.app import operator_key_path

        path = operator_key_path(load_config(self.config))  # beside a SQLite file, else ./var of the daemon
        return (path if path.is_absolute() else self.tmp / path).read_text().strip()

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 20) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.notify.close()


def wait_for(predicate, what: str, seconds: float = 20.0):
    """``predicate()``'s first true value, asked every 50 ms for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not in {seconds:.0f} s: {what}")


def call(d: Daemon, method: str, path: str, payload: dict | None = None, key: str | None = None):
    """A JSON call to one daemon (with ``key`` as its bearer token): ``(status, decoded body)``."""
    headers = {"Content-Type": "application/json"} if payload is not None else {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    status, body = d.request(method, path, json.dumps(payload).encode() if payload is not None else None, headers)
    return status, json.loads(body) if body else None
