# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Replace itself with a shell (os.execv)."""

# expect: blocked
import os

os.execv("/bin/sh", ["sh", "-c", f"echo out > {T['TMP']}/{T['MARK']}-exec"])
