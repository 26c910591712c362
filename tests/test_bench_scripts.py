"""bench/schemathesis.sh around its daemon: started, stopped by its own pid, its folder removed only after."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.conftest import ROOT


def processes_mentioning(marker: str) -> list[int]:
    """Pids of the processes whose command line holds ``marker`` (a folder only this test uses)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:  # gone meanwhile
                pass
    return pids


def test_schemathesis_script_stops_its_daemon_before_removing_its_folder(tmp_path):
    fuzzer = tmp_path / "schemathesis"  # stands in for the fuzzer: the daemon's life is what is tested here
    fuzzer.write_text('#!/bin/sh\ncurl -fsS "$2" >/dev/null\n')  # $2: the daemon's /openapi.json
    fuzzer.chmod(0o755)
    work = tmp_path / "tmp"
    work.mkdir()
    env = {**os.environ, "TMPDIR": str(work), "SCHEMATHESIS": str(fuzzer)}
    try:
        result = subprocess.run(["bash", str(ROOT / "bench" / "schemathesis.sh"), "1"], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.count("== ") == 3  # three fuzz runs against a daemon that answered
        assert processes_mentioning(str(work)) == []
        assert list(work.iterdir()) == []
    finally:
        for pid in processes_mentioning(str(work)):
            os.kill(pid, signal.SIGKILL)
