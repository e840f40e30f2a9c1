"""`vistavox desktop-entry install|uninstall`: this user's launcher entry for the desktop
app (the files and where they go: vistavox.pipelines.desktop_entry)."""

from __future__ import annotations

import argparse
import sys

from ..desktop_entry import data_home, install, uninstall


def _cmd_desktop_entry(args: argparse.Namespace) -> int:
    home = data_home()
    if args.action == "install":
        written = install(home)
        for path in written:
            print(path)
        print(
            f"Vistavox is in the application menu ({len(written)} files under {home}); "
            "`vistavox desktop-entry uninstall` removes it.",
            file=sys.stderr,
        )
    else:
        removed = uninstall(home)
        for path in removed:
            print(path)
        print(f"Removed {len(removed)} files of the launcher entry from {home}.", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    entry = sub.add_parser(
        "desktop-entry",
        help="add Vistavox to (or remove it from) the desktop's application menu",
        description="Install or remove this user's launcher entry for the desktop app: "
        "the .desktop file, the icons and the AppStream metainfo, under $XDG_DATA_HOME "
        "(default ~/.local/share).",
    )
    entry.add_argument("action", choices=["install", "uninstall"])
    entry.set_defaults(run=_cmd_desktop_entry)
