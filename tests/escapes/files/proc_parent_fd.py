# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Open the files the parent has open through /proc/PID/fd (its databases, its logs)."""

# expect: blocked
import os

folder = f"/proc/{os.getppid()}/fd"
opened = []
for name in os.listdir(folder):
    try:
        with open(f"{folder}/{name}", "rb") as f:
            opened.append(f.read(100))
    except OSError:
        pass
print(opened, T["MARK"] if opened else "")
