# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Replace builtins.__import__ with importlib's and reach posix.open directly."""

# expect: blocked
import builtins
import importlib

builtins.__import__ = importlib.__import__
posix = importlib.import_module("posix")
fd = posix.open(T["SSH_KEY"], posix.O_RDONLY)
print(posix.read(fd, 4096))
