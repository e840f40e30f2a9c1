# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Read the parent's environment from /proc/PID/environ."""

# expect: blocked
import os

print(open(f"/proc/{os.getppid()}/environ", "rb").read())
