# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Allocate memory without end (prints the mark past 4 GB)."""

# expect: contained (memory)
chunks = []
while True:
    chunks.append(bytearray(64 * 1024 * 1024))
    if len(chunks) * 64 > 4096:
        print(T["MARK"])
        break
