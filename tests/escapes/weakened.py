"""The Python tool with some of the sandbox's layers taken away, or as it would be on a
machine with less: which attempts each layer stops, and what other distributions get.

``python -m tests.escapes.weakened SCENARIO '{"code": ...}'`` prints what the tool would
print. Layers are removed from the outside (the child's start-up is patched before it
confines itself); the app has no switch to turn them off.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

_LANDLOCK = "from vistavox.pipelines.tools import landlock as l; "
_SECCOMP = "from vistavox.pipelines.tools import syscall_filter as s; "
_NO_LANDLOCK = _LANDLOCK + "l.restrict_self = lambda *a, **k: []; "
_NO_SECCOMP = _SECCOMP + "s.install = lambda pid: []; "
# name: (patch run in the child before it confines itself, whether namespaces are made)
SCENARIOS = {
    # Debian 12 (Linux 6.1): Landlock ABI 2, user namespaces allowed.
    "debian-12": (_LANDLOCK + "l.abi_version = lambda: 2; ", True),
    # Ubuntu 24.04 (Linux 6.8): Landlock ABI 4, unprivileged user namespaces refused.
    "ubuntu-24.04": (_LANDLOCK + "l.abi_version = lambda: 4; ", False),
    "no-seccomp": (_NO_SECCOMP, True),
    "no-landlock": (_NO_LANDLOCK, True),
    "namespaces-and-audit-hook-only": (_NO_SECCOMP + _NO_LANDLOCK, True),
}


def main(argv: list[str]) -> int:
    from vistavox.pipelines.tools import sandbox

    patch, namespaces = SCENARIOS[argv[0]]
    sandbox._RUNNER = (
        f"import sys; {patch}"
        "from vistavox.pipelines.tools.sandbox_runner import main; main(sys.argv[1:])"
    )
    code = json.loads(argv[1])["code"]
    data = os.environ.get("XDG_DATA_HOME")  # the range's fake home (none: no images copied)
    outputs = Path(data) / "vistavox" / "workspace" / "outputs" if data else None
    result = sandbox.run_python(code, outputs_dir=outputs, isolate_network=namespaces)
    answer = {"tool": "python", "ok": result.ok, "content": result.as_json()}
    print(json.dumps({**answer, "confinement": result.confinement}))
    return 0 if result.ok else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
