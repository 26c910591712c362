"""The bench scripts at tiny sizes: each runs to the end and reports its figures (what they are is bench/README.md's
business, not a test's); bench/schemathesis.sh stops its daemon by its own pid before removing its folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.postgres import SERVER


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


def _bench(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def test_inbound_bench_pinned_reports_both_ratios_and_every_text_durable(tmp_path):
    out = tmp_path / "inbound.json"
    result = _bench("inbound.py", "--quick", "--pin", "--messages", "200", "--warmup", "20", "--steady-seconds", "1",
                    "--rate", "100", "--sites", "2", "--json", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(out.read_text())
    assert set(figures["ratio"]) == {"mix", "help"} and all(v > 0 for v in figures["ratio"].values())
    assert figures["gateway"]["closed"]["help"]["kinds"] == {"verify": 0, "chatter": 0, "unknown": 200}
    assert figures["env"]["pinned"] == {"daemon": 0, "client": 1}
    durable = figures["gateway"]["durability"]
    assert durable["inbound_rows"] == durable["answered_200"] == 20 * 2 + 200 * 2 + 100
    assert "ratio gateway / bare, HELP from unknown" in result.stdout


@pytest.mark.postgres
def test_inbound_bench_runs_one_and_two_postgres_daemons_and_reports_their_ratios(tmp_path, pg_database):
    out = tmp_path / "inbound.json"
    result = _bench("inbound.py", "--quick", "--messages", "100", "--warmup", "10", "--steady-seconds", "1",
                    "--rate", "50", "--sites", "2", "--postgres", SERVER, "--json", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(out.read_text())
    assert figures["postgres2"]["daemons"] == 2 and figures["postgres"]["daemons"] == 1
    for key in ("ratio_postgres", "ratio_postgres2", "ratio_postgres_to_sqlite"):
        assert set(figures[key]) == {"mix", "help"} and all(v > 0 for v in figures[key].values()), key
    durable = figures["postgres2"]["durability"]  # both daemons' texts, each once, in the one database
    assert durable["inbound_rows"] == durable["answered_200"] == 10 * 2 + 100 * 2
    assert durable["daemon_log_errors"] == 0
    assert "ratio 2 postgres gateway / bare, HELP from unknown" in result.stdout
    assert "ratio postgres / sqlite (one daemon each), chatter mix" in result.stdout


def test_storm_bench_measures_intake_first_texts_drain_and_the_urgent_alarm(tmp_path):
    out = tmp_path / "storm.json"
    result = _bench("storm.py", "--quick", "--sites", "10", "--events", "40", "--event-rate", "40", "--reply-rate",
                    "10", "--notices", "60", "--pace", "50", "--json", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(out.read_text())
    storm = figures["storm"]
    assert storm["events"]["ok"] == 40 and storm["events_with_text"] == 40 and storm["left_queued"] == 0
    assert storm["drain"]["texts"] == 80 and storm["depth"]
    assert figures["priority"]["sends_before_urgent"] <= figures["priority"]["max_in_flight"]
    assert "event to first text" in result.stdout and "urgent alarm" in result.stdout


def test_instructions_bench_counts_a_text_under_callgrind():  # valgrind is on every kind of machine (env docs)
    result = _bench("instructions.py", "--texts", "20", "--warmup", "5", "--kinds", "help", "--sites", "1",
                    timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    per_text = int(result.stdout.splitlines()[-1].split()[-1].replace(",", ""))
    assert per_text > 100_000  # a text costs hundreds of thousands of instructions, not none


def test_profile_kind_bench_records_one_kind_of_text_with_py_spy(tmp_path):  # py-spy comes with the test extras
    out = tmp_path / "help.txt"
    result = _bench("profile_kind.py", "--kind", "help", "--texts", "200", "--warmup", "20", "--sites", "1",
                    "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "200 ok / 0 errors" in result.stdout
    stacks = out.read_text().splitlines()
    assert stacks and any("InboundService.receive" in line for line in stacks)  # the daemon's own frames
