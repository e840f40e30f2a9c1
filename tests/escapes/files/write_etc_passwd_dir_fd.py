# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Open /etc/passwd for writing by a relative path under a folder descriptor, which the path check
reads against the wrong folder."""

# expect: blocked
import os
import sys


def confused_open(target, flags):
    """Open ``target`` relative to a folder the sandbox lets us read (dir_fd), by a path
    that, read from the current folder, seems to stay inside the working folder."""
    base = os.path.realpath(sys.base_prefix)
    relative = os.path.relpath(target, base)
    ups = relative.split(os.sep).count("..")
    deep = os.path.join(*[f"d{i}" for i in range(ups)]) if ups else "."
    os.makedirs(deep, exist_ok=True)
    os.chdir(deep)
    folder = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    return os.open(relative, flags, 0o644, dir_fd=folder)


fd = confused_open("/etc/passwd", os.O_WRONLY | os.O_APPEND)
print(T["MARK"])  # opened for writing; nothing is written
