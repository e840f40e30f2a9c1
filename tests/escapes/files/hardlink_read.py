# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Read the SSH key through a hard link made in the working folder."""

# expect: blocked
import os

os.link(T["SSH_KEY"], "key")
print(open("key").read())
