# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""List the user's home folder."""

# expect: blocked
import os

print(os.listdir(T["HOME"]), T["MARK"])
