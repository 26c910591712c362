"""argon2's 19 MiB of working memory a check is given back when the check is done (gateway/daemon/malloc.py)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

CHECKS = """
import sys, threading
from gateway.auth.hashes import hash_secret, verify_secret
from gateway.daemon.malloc import keep_large_blocks_mapped
if sys.argv[1] == "fixed":
    assert keep_large_blocks_mapped()
stored = hash_secret("1234")
def rss():
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS")) / 1024
start = rss()
for _ in range(3):  # on other threads, as the daemon checks (each thread its own arena)
    threads = [threading.Thread(target=verify_secret, args=(stored, "9999")) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
print(round(rss() - start, 1))
"""


def grown_mb(mode: str) -> float:
    done = subprocess.run([sys.executable, "-c", CHECKS, mode], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return float(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's threshold is glibc's")
def test_checks_on_threads_leave_no_working_memory_resident():
    assert grown_mb("fixed") < 8  # 19 MiB a check: none of it stays
    assert grown_mb("default") > 15  # glibc's own threshold keeps at least one check's worth
