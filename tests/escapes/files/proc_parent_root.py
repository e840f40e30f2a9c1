# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Read the SSH key through the parent's /proc/PID/root."""

# expect: blocked
import os

print(open(f"/proc/{os.getppid()}/root" + T["SSH_KEY"]).read())
