"""A PostgreSQL cluster of the test's own (initdb and pg_ctl in a temporary folder, on a free port of
127.0.0.1), for faults that stop the server. The machine's shared server on 5432 is never touched.

PostgreSQL refuses to run as root: as root, the cluster runs as the ``postgres`` user (``runuser``), its
folder made in /tmp (pytest's own folders are closed to other users) and handed to that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import free_port

BIN = Path(os.environ.get("GATEWAY_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
USER = "postgres"


def missing() -> str | None:
    """Why no cluster of our own can run here (None: it can)."""
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not (BIN / tool).exists():
            return f"no {BIN / tool} (the postgresql-15 package)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(USER)
        except KeyError:
            return f"running as root and there is no {USER!r} user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root without runuser"
    return None


class OwnCluster:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="gateway-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self.running = False
        if os.geteuid() == 0:
            user = pwd.getpwnam(USER)
            os.chown(self.folder, user.pw_uid, user.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(BIN / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=90, cwd=self.folder)
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise AssertionError(f"{tool} {' '.join(args)} exited {result.returncode}: {result.stderr}\n{log}")

    def init(self) -> OwnCluster:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", USER, "--no-sync", "-E", "UTF8")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """``fast``: connections are cut and the server shuts down cleanly (as a restart does)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def destroy(self) -> None:
        if self.running:
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def own_cluster():
    """A started cluster of this test's own, removed afterwards; the test is skipped (with why) without the
    binaries."""
    reason = missing()
    if reason:
        pytest.skip(f"no PostgreSQL cluster of the test's own: {reason}")
    cluster = OwnCluster().init()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()
