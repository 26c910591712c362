"""Large blocks handed back to the system when freed: argon2's working memory (19 MiB a check,
gateway/auth/hashes.py) stays out of the process's resident set between checks.

glibc maps a block that large on its own and unmaps it when freed, but after the first such free it raises its
threshold to that size, so every later check's 19 MiB comes from the heap of its thread's arena and stays
resident when freed: the PostgreSQL daemon stood at 79.6 MB after bench/inbound.py's seeding against 59.3 MB at
start (61.1 MB with the threshold fixed; tests/test_malloc.py). A fixed threshold turns the raising off.
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
THRESHOLD_BYTES = 1 << 20  # blocks of 1 MiB and more: mapped for themselves, unmapped when freed


def keep_large_blocks_mapped() -> bool:
    """Fix glibc's mmap threshold at 1 MiB; False where the C library has no ``mallopt`` (not glibc)."""
    try:  # the process's own symbols, libc's among them (find_library would run ldconfig: 4.4 ms at start)
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES) == 1
