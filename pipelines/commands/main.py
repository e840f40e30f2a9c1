"""The `vistavox` command: the parser, with every sub-command, and `main()`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import partial
from gettext import gettext
from importlib.metadata import EntryPoint, distributions

from ...models.resolve import ModelError
from ..errors import VistavoxError
from ..version import app_version
from . import ask, converse, desktop_entry, models, reply, tools, vision, wakeword

# Sub-commands contributed by other parts of Vistavox: an entry point NAME = "module:function"
# in this group names a function that takes the sub-parsers (argparse's add_subparsers())
# and adds the command NAME, e.g. `desktop = "vistavox.desktop.command:add_command"`.
COMMAND_GROUP = "vistavox.commands"


def registered_commands() -> list[EntryPoint]:
    """The entry points in COMMAND_GROUP, the first of each name. Every distribution on the
    path is read, not only the first of each distribution name as entry_points() does: a
    stale vistavox.egg-info left in a source tree (on the path when Python runs from there)
    would otherwise hide the installed distribution's commands."""
    found: dict[str, EntryPoint] = {}
    for dist in distributions():
        for entry in dist.entry_points.select(group=COMMAND_GROUP):
            found.setdefault(entry.name, entry)
    return list(found.values())


def _add_registered_commands(sub) -> None:
    """The commands registered under COMMAND_GROUP. One that cannot be imported or added is
    still listed, and whatever follows its name (--help included), it says why it cannot run;
    the other commands work as ever."""
    for entry in registered_commands():
        if entry.name in sub.choices:  # a name already taken keeps its command
            continue
        try:
            entry.load()(sub)
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
            command = sub.choices.get(entry.name)  # added before it failed: it runs nothing
            if command is None:
                command = sub.add_parser(
                    entry.name, add_help=False, help=f"(cannot be loaded: {problem})"
                )
            command.set_defaults(run=partial(_unavailable, entry.name, problem), any_arguments=True)


def _unavailable(name: str, problem: str, args: argparse.Namespace) -> int:
    raise VistavoxError(f"the `vistavox {name}` command cannot be loaded ({problem})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vistavox",
        description="Vistavox: a private, local assistant you talk to and show things to.",
    )
    parser.add_argument("--version", action="version", version=f"vistavox {app_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    reply.add_commands(sub)
    models.add_commands(sub)
    _add_registered_commands(sub)  # `vistavox desktop`, listed where it always was
    converse.add_commands(sub)
    ask.add_commands(sub)
    tools.add_commands(sub)
    vision.add_commands(sub)
    wakeword.add_commands(sub)
    desktop_entry.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `vistavox` command."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "any_arguments", False):
        # as parse_args() says it
        parser.error(gettext("unrecognized arguments: %s") % " ".join(extra))
    from ..allocator import return_freed_memory_promptly

    return_freed_memory_promptly()  # (converse runs for hours)
    try:
        return int(args.run(args))
    except (VistavoxError, ModelError) as exc:
        print(f"vistavox: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("vistavox: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
