# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Fill memory with in-memory files (memfd), which no folder listing shows (prints the mark past 1
GB)."""

# expect: contained (disk)
import os

block = bytes(1024 * 1024)
kept = []
for n in range(60):
    fd = os.memfd_create(f"fill-{n}")
    for _ in range(19):
        os.write(fd, block)
    kept.append(fd)
    if len(kept) * 19 > 1024:
        print(T["MARK"])
        break
