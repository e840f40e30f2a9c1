# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Kill the parent (the app) with SIGKILL."""

# expect: blocked
import os
import signal

os.kill(os.getppid(), signal.SIGKILL)
print(T["MARK"])
