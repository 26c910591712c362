"""Summarise ``py-spy record --format raw [--threads] [--idle]`` output (folded stacks).

    python bench/pyspy_summary.py PROFILE.txt [--top 25] [--thread MainThread]

Prints samples per thread, then for the chosen threads the functions with the most
inclusive samples (the function or anything it called was on the stack) and the most
self samples (it was the innermost frame), as percentages of those threads' samples.
"""

from __future__ import annotations

import argparse
import collections
import re

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*?)(?::(?P<line>\d+))?\)$")


def parse(path: str):
    for raw in open(path, encoding="utf-8", errors="replace"):
        raw = raw.rstrip("\n")
        stack, _, count = raw.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        thread = frames[0] if frames[0].startswith("thread (") or frames[0].startswith("process ") else ""
        if thread:
            frames = frames[1:]
        yield thread, frames, int(count)


def short(frame: str) -> str:
    m = FRAME.match(frame)
    if not m:
        return frame
    path = m.group("file")
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{m.group('func')} ({path})"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("profile")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--thread", action="append", help="substring of the thread label to include (default: all)")
    args = p.parse_args()
    per_thread: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    self_: collections.Counter[str] = collections.Counter()
    total = 0
    for thread, frames, n in parse(args.profile):
        per_thread[thread] += n
        if args.thread and not any(t in thread for t in args.thread):
            continue
        total += n
        for f in {short(f) for f in frames}:
            incl[f] += n
        if frames:
            self_[short(frames[-1])] += n
    print("samples per thread:")
    for t, n in per_thread.most_common():
        print(f"  {n:7d}  {t}")
    print(f"\ninclusive, % of {total} samples in the selected threads:")
    for f, n in incl.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {f}")
    print("\nself (innermost frame):")
    for f, n in self_.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {f}")


if __name__ == "__main__":
    main()
