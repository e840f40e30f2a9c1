# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Run a shell command with os.system."""

# expect: blocked
import os

status = os.system(f"echo out > {T['TMP']}/{T['MARK']}-system")
if status != 0:
    raise OSError(f"the command did not run (status {status})")
print(T["MARK"])
