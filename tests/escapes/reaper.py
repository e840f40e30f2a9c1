"""Run a command as a child subreaper and report what it left alive.

``python -m tests.escapes.reaper REPORT.json -- CMD ...`` runs CMD; every process CMD starts
that outlives its own parent (a double fork, a ``setsid`` daemon) is re-parented to this
process instead of init (``PR_SET_CHILD_SUBREAPER``), so once CMD has exited, whatever is
still our child was left behind by it. Those are listed in the report, then killed.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def _children() -> list[dict]:
    """Our live children (zombies are reaped, not counted)."""
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, ppid = fields[0], fields[1]
        if ppid != me:
            continue
        if state == "Z":
            os.waitpid(int(entry.name), os.WNOHANG)
            continue
        found.append({"pid": int(entry.name), "cmdline": cmdline.strip()[:200]})
    return found


def main(argv: list[str]) -> int:
    report_path, separator, *command = argv
    if separator != "--" or not command:
        print("usage: python -m tests.escapes.reaper REPORT.json -- CMD ...", file=sys.stderr)
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("cannot become a child subreaper", file=sys.stderr)
        return 2
    started = time.monotonic()
    returncode = subprocess.call(command)
    seconds = time.monotonic() - started
    leftover = _children()
    for child in leftover:
        try:
            os.kill(child["pid"], signal.SIGKILL)
            os.waitpid(child["pid"], 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    report = {"returncode": returncode, "seconds": seconds, "leftover": leftover}
    Path(report_path).write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
