# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Map 16 GB of anonymous memory and touch it."""

# expect: contained (memory)
import mmap

area = mmap.mmap(-1, 16 * 1024**3)
for offset in range(0, len(area), 4096 * 256):
    area[offset] = 1
print(T["MARK"])
