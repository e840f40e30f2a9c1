"""`vistavox tools …`: list the tools, run one through the same validation, sandbox and
policy the assistant uses, index documents for search, and show the audit log."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import VistavoxError


def _registry(args: argparse.Namespace):
    from ..assistant import workspace_dir
    from ..kernel.store import Store, default_db_path
    from ..tools.defaults import default_registry

    def confirm(tool, arguments) -> bool:
        if args.allow_risky:
            return True
        if not sys.stdin.isatty():
            print(f"[refused] {tool.name} needs confirmation (--allow-risky)", file=sys.stderr)
            return False
        return input(f"Allow {tool.name} {arguments}? [y/N] ").strip().lower() in ("y", "yes")

    store = Store(args.db or default_db_path())
    return default_registry(
        store, confirm=confirm, workspace=workspace_dir(), persona_name=args.persona
    )


def cmd_list(args: argparse.Namespace) -> int:
    registry = _registry(args)
    for spec in registry.specs(every=True):
        tool = registry.get(spec["name"])
        permission = registry.permissions.get(tool.name)
        print(
            f"{tool.name:14} {tool.side_effect.value:18} "
            f"{(permission.value if permission else 'default'):8} {tool.description}"
        )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    try:
        arguments = json.loads(args.arguments)
    except ValueError as exc:
        raise VistavoxError(f"the arguments are not JSON: {exc}") from exc
    if not isinstance(arguments, dict):
        raise VistavoxError('the arguments must be a JSON object, e.g. \'{"expression": "2+2"}\'')
    registry = _registry(args)
    result = registry.call(args.name, arguments, untrusted_turn=args.untrusted)
    print(
        json.dumps(
            {
                "tool": result.tool,
                "ok": result.ok,
                "decision": result.decision,
                "seconds": round(result.seconds, 3),
                "content": result.content,
            },
            indent=2,
        )
    )
    return 0 if result.ok else 2


def cmd_index(args: argparse.Namespace) -> int:
    from ..tools.documents import DocumentIndex

    index = DocumentIndex()
    for path in args.paths:
        count = index.add(Path(path))
        print(f"{path}: {count} passages")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from ..tools.defaults import audit_path

    path = audit_path()
    if not path.exists():
        print("No tool calls yet.")
        return 0
    lines = path.read_text(encoding="utf-8").splitlines()[-args.last :]
    for line in lines:
        entry = json.loads(line)
        print(
            f"{entry['tool']:12} {entry['decision']:9} {entry['seconds']:6.2f}s "
            f"untrusted={entry['untrusted_turn']!s:5} {json.dumps(entry['arguments'])[:80]} "
            f"→ {entry['summary'][:80]}"
        )
    return 0


def add_commands(sub) -> None:
    tools = sub.add_parser("tools", help="list, run and audit the assistant's tools")
    actions = tools.add_subparsers(dest="action", required=True, metavar="ACTION")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--persona", default="assistant", help="whose permissions apply")
    common.add_argument("--db", type=Path, help="conversation database (for memories)")
    common.add_argument(
        "--allow-risky", action="store_true", help="headless: allow tools that ask first"
    )
    listing = actions.add_parser("list", parents=[common], help="every tool and its permission")
    listing.set_defaults(run=cmd_list)
    run = actions.add_parser("run", parents=[common], help="run one tool: NAME 'JSON-ARGS'")
    run.add_argument("name")
    run.add_argument("arguments", help='JSON object, e.g. \'{"expression": "2+2"}\'')
    run.add_argument(
        "--untrusted", action="store_true", help="treat the call as coming from untrusted data"
    )
    run.set_defaults(run=cmd_run)
    index = actions.add_parser("index", help="add documents to the file search")
    index.add_argument("paths", nargs="+")
    index.set_defaults(run=cmd_index)
    audit = actions.add_parser("audit", help="the latest tool calls and decisions")
    audit.add_argument("--last", type=int, default=20)
    audit.set_defaults(run=cmd_audit)
