# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Fill the disk: files just under the size limit, one after another (prints the mark past
3 GB)."""

# expect: contained (disk)
block = bytes(1024 * 1024)
total = 0
for n in range(200):
    with open(f"fill-{n}.bin", "wb") as f:
        for _ in range(19):
            f.write(block)
    total += 19
    if total > 3072:
        print(T["MARK"])
        break
