"""`vistavox desktop`: the desktop app as a sub-command of the `vistavox` command line.

The command line (vistavox.pipelines.commands) does not import the desktop: this function is
registered in pyproject.toml under the "vistavox.commands" entry-point group, and the
command line adds what is registered there. Nothing Qt is imported until the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_command(sub) -> None:
    """Add `vistavox desktop` to the sub-parsers of the `vistavox` command."""
    desktop = sub.add_parser("desktop", help="open the desktop app (same as vistavox-desktop)")
    desktop.add_argument("--db", type=Path, help="conversation database (default: user data)")
    desktop.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .app import main as desktop_main

    return desktop_main(["--db", str(args.db)] if args.db else [])
