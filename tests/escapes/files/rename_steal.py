# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Move the SSH key into the working folder and read it (the user loses it too)."""

# expect: blocked
import os

os.rename(T["SSH_KEY"], "stolen")
print(open("stolen").read())
