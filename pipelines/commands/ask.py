"""`vistavox ask`: one turn with the kernel, streamed as text (for scripts and checks)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def build_kernel(args: argparse.Namespace):
    """The kernel the command line asks for: backend, store, persona, tools."""
    from ..app_settings import AppSettings
    from ..assistant import workspace_dir
    from ..intents.handler import add_everyday_intents
    from ..kernel.kernel import Kernel
    from ..kernel.loading import load_llm
    from ..kernel.personas import load_persona
    from ..kernel.store import Store, default_db_path
    from ..tools.defaults import default_registry

    persona = load_persona(args.persona)
    store = Store(args.db or default_db_path())
    if args.llm:
        llm = load_llm(args.llm, backend=args.backend)
    else:  # the models chosen in the app's settings (or the best one installed)
        settings = AppSettings.load()
        llm = load_llm(settings.llm_model, settings.vision_model, backend=args.backend)

    def confirm(tool, arguments) -> bool:
        if args.allow_risky:
            return True
        if not sys.stdin.isatty():
            print(
                f"[refused] {tool.name} needs confirmation (use --allow-risky to allow headless)",
                file=sys.stderr,
            )
            return False
        answer = input(f"Allow {tool.name} {arguments}? [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    registry = default_registry(
        store, confirm=confirm, workspace=workspace_dir(), persona_name=persona.name
    )
    kernel = Kernel(
        llm,
        store,
        persona,
        tools=registry if not args.no_tools else None,
        tool_format=args.tool_format,
    )
    kernel.threads = os.cpu_count()  # nothing else needs the CPU meanwhile
    if not args.no_intents:
        kernel.intents_used = []  # shown after the answer
        add_everyday_intents(kernel, on_answer=kernel.intents_used.append)
    return kernel


def cmd_ask(args: argparse.Namespace) -> int:
    kernel = build_kernel(args)
    reply = kernel.ask(
        args.question,
        conversation_id=args.conversation,
        files=[Path(f) for f in args.file],
        images=[Path(i) for i in args.image],
        on_token=lambda piece: print(piece, end="", flush=True),
    )
    print(flush=True)
    for answer in getattr(kernel, "intents_used", []):
        print(f"[intent] {answer.intent}: {answer.reading}", file=sys.stderr)
    for result in reply.tool_results:
        print(f"[tool] {result.tool} → {result.decision}: {result.content[:200]}", file=sys.stderr)
    if args.show_context:
        print(reply.plan.memory_map(), file=sys.stderr)
    print(f"[conversation {reply.conversation_id}]", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    ask = sub.add_parser(
        "ask",
        help="ask the assistant in text; the answer streams out",
        description="One turn with the kernel, as text.",
    )
    ask.add_argument("question")
    ask.add_argument("--image", action="append", default=[], help="attach an image")
    ask.add_argument("--file", action="append", default=[], help="attach a document")
    ask.add_argument("--persona", default="assistant", help="persona name (default: assistant)")
    ask.add_argument(
        "--backend",
        help="URL of an OpenAI-compatible server instead of the "
        "local model, e.g. http://127.0.0.1:8000",
    )
    ask.add_argument("--conversation", type=int, help="continue this conversation")
    ask.add_argument("--db", type=Path, help="conversation database (default: user data dir)")
    ask.add_argument(
        "--llm",
        metavar="NAME",
        help="language model from `vistavox models` (default: the one chosen in the app's "
        "settings, else the best one installed)",
    )
    ask.add_argument("--no-tools", action="store_true", help="answer without tools")
    ask.add_argument(
        "--no-intents",
        action="store_true",
        help="send everything to the model (no exact local answers for sums, units, time…)",
    )
    ask.add_argument(
        "--tool-format",
        choices=("json", "native"),  # Kernel.TOOL_FORMATS (not imported: slow)
        default="json",
        help="json: tool calls as JSON steps under a grammar (default); native: the model's "
        "own format where its chat template has one (answers stream as written)",
    )
    ask.add_argument(
        "--allow-risky", action="store_true", help="headless: allow tools that need confirmation"
    )
    ask.add_argument(
        "--show-context", action="store_true", help="print the context window's memory map"
    )
    ask.set_defaults(run=cmd_ask)
