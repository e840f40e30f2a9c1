# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Make the SSH key readable by everyone (chmod is not a file open)."""

# expect: blocked
import os
import stat

os.chmod(T["SSH_KEY"], 0o644)
if stat.S_IMODE(os.stat(T["SSH_KEY"]).st_mode) == 0o644:
    print(T["MARK"])
