"""A stand-in for ``vistavox tools run python`` with no sandbox at all: the code runs in a
plain child process. The escape tests run a few attempts through it to show that the
range sees an escape when nothing stops one (its checks can fail).

``python -m tests.escapes.unsandboxed '{"code": ...}'`` prints what the tool would print.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    code = json.loads(argv[0])["code"]
    with tempfile.TemporaryDirectory(prefix="vistavox-unsandboxed-") as scratch:
        out, err = Path(scratch, "stdout"), Path(scratch, "stderr")
        # Files, not pipes: a process the code leaves behind would keep a pipe open.
        with out.open("wb") as stdout, err.open("wb") as stderr:
            code_ = subprocess.call(
                [sys.executable, "-c", code], cwd=scratch, stdout=stdout, stderr=stderr
            )
        result = {
            "ok": code_ == 0,
            "exit": "finished" if code_ == 0 else "error",
            "stdout": out.read_text(errors="replace")[-20_000:],
            "stderr": err.read_text(errors="replace")[-20_000:],
        }
    print(json.dumps({"tool": "python", "ok": result["ok"], "content": json.dumps(result)}))
    return 0 if result["ok"] else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
