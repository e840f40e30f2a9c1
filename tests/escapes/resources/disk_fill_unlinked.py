# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Fill the disk with files deleted while still open, which no folder listing shows (prints the
mark past 1 GB)."""

# expect: contained (disk)
import os

block = bytes(1024 * 1024)
kept = []
for n in range(60):
    f = open(f"hidden-{n}.bin", "wb")
    os.unlink(f.name)
    for _ in range(19):
        f.write(block)
    f.flush()
    kept.append(f)
    if len(kept) * 19 > 1024:
        print(T["MARK"])
        break
