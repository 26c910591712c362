"""gateway.daemon.sdnotify against real AF_UNIX datagram sockets, plus checks on systemd/gateway.service."""

from __future__ import annotations

import asyncio
import configparser
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.daemon.sdnotify import Notifier, watchdog_loop

UNIT = Path(__file__).resolve().parent.parent / "systemd" / "gateway.service"


@pytest.fixture
def listener(tmp_path):
    """A bound datagram socket in tmp_path; yields (socket, NOTIFY_SOCKET value)."""
    path = tmp_path / "n.sock"
    if len(os.fsencode(path)) >= 104:
        pytest.skip(f"tmp_path too long for a unix socket address: {path}")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    yield sock, str(path)
    sock.close()


def recv(sock: socket.socket) -> str:
    return sock.recv(4096).decode()


def test_ready_with_status_is_one_datagram(listener):
    sock, addr = listener
    n = Notifier.from_env({"NOTIFY_SOCKET": addr})
    assert n.ready("listening on :8080") is True
    assert recv(sock) == "READY=1\nSTATUS=listening on :8080"


def test_ready_without_status(listener):
    sock, addr = listener
    assert Notifier.from_env({"NOTIFY_SOCKET": addr}).ready() is True
    assert recv(sock) == "READY=1"


def test_stopping_watchdog_status_reloading(listener):
    sock, addr = listener
    n = Notifier.from_env({"NOTIFY_SOCKET": addr})
    assert n.stopping() and recv(sock) == "STOPPING=1"
    assert n.watchdog() and recv(sock) == "WATCHDOG=1"
    assert n.status("reloaded keywords") and recv(sock) == "STATUS=reloaded keywords"
    assert n.reloading()
    first, second = recv(sock).split("\n")
    assert first == "RELOADING=1"
    key, value = second.split("=")
    assert key == "MONOTONIC_USEC" and int(value) > 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="abstract namespace is Linux-only")
def test_abstract_namespace_socket():
    name = f"gateway-test-{secrets.token_hex(8)}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        n = Notifier.from_env({"NOTIFY_SOCKET": "@" + name})
        assert n.address == "\0" + name
        assert n.ready("up") is True
        assert recv(sock) == "READY=1\nSTATUS=up"


def test_watchdog_interval_from_env():
    n = Notifier.from_env({"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000"})
    assert n.watchdog_interval == 15.0
    own = Notifier.from_env({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())})
    assert own.watchdog_interval == 15.0


def test_watchdog_disabled_for_other_pid_or_missing():
    other = Notifier.from_env({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid() + 1)})
    assert other.watchdog_interval is None
    assert Notifier.from_env({}).watchdog_interval is None
    assert Notifier.from_env({"WATCHDOG_USEC": "nonsense"}).watchdog_interval is None
    assert Notifier.from_env({"WATCHDOG_USEC": "0"}).watchdog_interval is None


def test_no_notify_socket_is_noop():
    n = Notifier.from_env({})
    assert n.address is None
    assert n.notify("READY=1") is False
    assert n.ready("x") is False and n.stopping() is False and n.watchdog() is False


def test_relative_notify_socket_ignored():
    assert Notifier.from_env({"NOTIFY_SOCKET": "relative/path"}).address is None


def test_nobody_listening_returns_false_and_warns_once(tmp_path, caplog):
    n = Notifier.from_env({"NOTIFY_SOCKET": str(tmp_path / "missing.sock")})
    with caplog.at_level(logging.WARNING, logger="gateway.daemon.sdnotify"):
        assert n.ready() is False
        assert n.watchdog() is False
    assert len([r for r in caplog.records if r.name == "gateway.daemon.sdnotify"]) == 1


def test_closed_listener_returns_false(tmp_path):
    path = tmp_path / "c.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    s.close()  # the file stays, nobody receives: ECONNREFUSED
    assert Notifier.from_env({"NOTIFY_SOCKET": str(path)}).notify("READY=1") is False


async def test_watchdog_loop_pings_then_stops(listener):
    sock, addr = listener
    sock.setblocking(False)
    n = Notifier.from_env({"NOTIFY_SOCKET": addr, "WATCHDOG_USEC": "100000"})
    assert n.watchdog_interval == 0.05
    stop = asyncio.Event()
    task = asyncio.create_task(watchdog_loop(n, stop))
    loop = asyncio.get_running_loop()

    async def two_pings():
        return [(await loop.sock_recv(sock, 4096)).decode() for _ in range(2)]

    assert await asyncio.wait_for(two_pings(), timeout=2) == ["WATCHDOG=1", "WATCHDOG=1"]
    stop.set()
    await asyncio.wait_for(task, timeout=1)
    assert task.done()


async def test_watchdog_loop_returns_at_once_when_off():
    await asyncio.wait_for(watchdog_loop(Notifier.from_env({}), asyncio.Event()), timeout=1)


def parse_unit(path: Path) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None, delimiters=("=",), comment_prefixes=("#", ";"))
    cp.optionxform = str  # keys are case-sensitive in unit files
    cp.read_string(path.read_text())
    return cp


def test_unit_file_essentials():
    unit = parse_unit(UNIT)
    assert unit.sections() == ["Unit", "Service", "Install"]
    svc = unit["Service"]
    assert svc["Type"] == "notify"
    assert svc["NotifyAccess"] == "main"
    assert "-HUP" in svc["ExecReload"] and "$MAINPID" in svc["ExecReload"]
    assert svc["User"] == "alarm-gateway"
    assert svc["NoNewPrivileges"] == "yes"
    assert svc["WatchdogSec"] == "30"
    assert svc["CapabilityBoundingSet"] == ""
    assert svc["ExecStart"].split()[1:] == ["serve", "-c", "/etc/alarm-sms-gateway/gateway.yaml"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed on this machine")
def test_unit_file_systemd_analyze_verify(tmp_path):
    # verify insists that ExecStart= exists; swap in a real binary for the not-yet-installed venv.
    true = shutil.which("true")
    assert true is not None
    text = UNIT.read_text().replace("/opt/alarm-sms-gateway/.venv/bin/gateway", true)
    copy = tmp_path / "gateway.service"
    copy.write_text(text)
    proc = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(copy)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "gateway.service" not in proc.stderr, proc.stderr
