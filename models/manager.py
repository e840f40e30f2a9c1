"""The model manager: every model Vistavox knows, whether it is installed and in use, and
what can be done with it (download, delete, choose). No Qt here: the desktop's Models page
and the `vistavox models` command drive the same functions.

    catalogue()                  every model, as ModelInfo rows
    Download(name, on_progress=) a download job: start, pause, resume, cancel, wait
    delete(name)                 remove a downloaded model (never a built-in one)
    set_active(name)             choose the model of its kind in the settings
    check_hub()                  whether the Hugging Face Hub answers

Memory estimate (``ModelInfo.memory``, ``estimate_memory``): the model's file size times a
factor for its kind, ``MEMORY_FACTORS``. A language or vision model's weights are mapped
into memory whole, plus its context (2048 tokens) and compute buffers: ×1.3, and ×1.4 with
a vision projector's image buffers. Whisper's float16 weights are converted to int8 as
they load (half the size) but decoding needs working memory: ×1.0. A Piper voice runs in
ONNX Runtime, whose arenas add about half again: ×1.5. The embedding model's float32
weights are used as they are, plus one batch: ×1.2. An estimate for choosing, not a
measurement; unknown while the size is.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..pipelines.app_settings import AppSettings
from .download import (
    ChecksumMismatch,
    Download,
    DownloadInterrupted,
    DownloadProgress,
    DownloadState,
    FileProgress,
    HubUnreachable,
    NotEnoughSpace,
    human_size,
    partial_folder,
    running_download,
)
from .manifest import MANIFEST, HubSource, ModelKind, ModelSpec, PackageSource, get_spec
from .resolve import ModelError, resolve, resolve_language_model, user_models_dir
from .transfer import hub_endpoint, remote_file

__all__ = [
    "ChecksumMismatch",
    "Download",
    "DownloadInterrupted",
    "DownloadProgress",
    "DownloadState",
    "FileProgress",
    "HubStatus",
    "HubUnreachable",
    "KIND_TITLES",
    "MEMORY_FACTORS",
    "ModelError",
    "ModelInfo",
    "NotEnoughSpace",
    "SETTING_FOR_KIND",
    "active_models",
    "catalogue",
    "check_hub",
    "delete",
    "discard_partial",
    "estimate_memory",
    "human_size",
    "model_info",
    "partial_bytes",
    "remote_size",
    "running_download",
    "set_active",
]

MEMORY_FACTORS: dict[ModelKind, float] = {
    ModelKind.LLM: 1.3,
    ModelKind.VISION: 1.4,
    ModelKind.STT: 1.0,
    ModelKind.TTS: 1.5,
    ModelKind.EMBEDDING: 1.2,
}

KIND_TITLES: dict[ModelKind, str] = {
    ModelKind.LLM: "Language models",
    ModelKind.VISION: "Vision models",
    ModelKind.STT: "Speech recognition",
    ModelKind.TTS: "Voices",
    ModelKind.EMBEDDING: "Embeddings (file search)",
}

# The AppSettings field that chooses each kind's model ("" = automatic or built in); the
# embedding model cannot be chosen.
SETTING_FOR_KIND: dict[ModelKind, str] = {
    ModelKind.STT: "stt_model",
    ModelKind.LLM: "llm_model",
    ModelKind.VISION: "vision_model",
    ModelKind.TTS: "tts_model",
}


def estimate_memory(kind: ModelKind, size: int | None) -> int | None:
    """Memory the model needs once loaded, in bytes (see the module's docstring)."""
    if size is None:
        return None
    return math.ceil(size * MEMORY_FACTORS[kind])


@dataclass(frozen=True)
class ModelInfo:
    """One row of the catalogue."""

    name: str  # manifest name: what the functions here take
    title: str
    kind: ModelKind
    licence: str
    notes: str
    size: int | None  # bytes: on disk if installed, else the manifest's (None: unknown)
    memory: int | None  # estimated bytes in memory once loaded (None: size unknown)
    installed: bool  # every file present with the right size
    location: str  # "embedded" (inside a Python package) or "user" (the models folder)
    path: Path | None  # the model's folder, where it is (or would be) installed
    active: bool  # what the app loads for its kind with the settings now
    default: bool  # the built-in default of its kind
    downloadable: bool  # comes from the Hub (download and delete apply)
    has_mirror: bool  # can also come from the package registry
    repo_id: str  # Hub repository ("" for built-in models)
    partial_bytes: int  # bytes of an unfinished download waiting to be resumed (0: none)
    downloading: bool  # a Download job of this process is running for it
    problem: str  # why it cannot be used, when not installed ("" when it can)

    @property
    def can_delete(self) -> bool:
        return self.downloadable and (self.installed or self.partial_bytes > 0)


def active_models(settings: AppSettings | None = None) -> dict[ModelKind, str | None]:
    """What the app loads for each kind with ``settings`` (default: the saved ones): the
    chosen model, else the automatic choice (the language model: the best one installed,
    see ``resolve_language_model``; speech and voice: the built-in ones). A chosen model
    that is missing is still named (loading it will say what is wrong). No vision model
    unless one is chosen; when one is, it answers in place of the language model."""
    s = settings if settings is not None else AppSettings.load()
    defaults = {spec.kind: spec.name for spec in MANIFEST if spec.default}
    try:
        llm: str | None = resolve_language_model(s.llm_model).spec.name
    except ModelError:
        llm = s.llm_model or defaults.get(ModelKind.LLM)
    return {
        ModelKind.STT: s.stt_model or defaults.get(ModelKind.STT),
        ModelKind.LLM: llm,
        ModelKind.VISION: s.vision_model or None,
        ModelKind.TTS: s.tts_model or defaults.get(ModelKind.TTS),
        ModelKind.EMBEDDING: defaults.get(ModelKind.EMBEDDING),
    }


def catalogue(settings: AppSettings | None = None) -> list[ModelInfo]:
    """Every model of every kind, in manifest order (kinds mixed: group by ``kind``).
    Checks presence and sizes only (no hashing): quick enough for a GUI thread."""
    s = settings if settings is not None else AppSettings.load()
    active = active_models(s)
    return [_info(spec, active) for spec in MANIFEST]


def model_info(name: str, settings: AppSettings | None = None) -> ModelInfo:
    """The catalogue row of one model."""
    spec = _spec(name)
    s = settings if settings is not None else AppSettings.load()
    return _info(spec, active_models(s))


def _info(spec: ModelSpec, active: dict[ModelKind, str | None]) -> ModelInfo:
    hub = isinstance(spec.source, HubSource)
    try:
        found = resolve(spec)
        installed, problem, path = True, "", found.root
        size: int | None = sum((found.root / f.path).stat().st_size for f in spec.files)
    except ModelError as exc:
        installed, problem = False, str(exc)
        path = user_models_dir() / spec.name if hub else None
        size = None if any(f.size is None for f in spec.files) else spec.size
    return ModelInfo(
        name=spec.name,
        title=spec.title,
        kind=spec.kind,
        licence=spec.licence,
        notes=spec.notes,
        size=size,
        memory=estimate_memory(spec.kind, size),
        installed=installed,
        location="user" if hub else "embedded",
        path=path,
        active=active.get(spec.kind) == spec.name,
        default=spec.default,
        downloadable=hub,
        has_mirror=hub and spec.source.mirror is not None,
        repo_id=spec.source.repo_id if hub else "",
        partial_bytes=partial_bytes(spec) if hub else 0,
        downloading=running_download(spec.name) is not None,
        problem=problem,
    )


def partial_bytes(spec: ModelSpec | str) -> int:
    """Bytes of the model's files (finished or still arriving) in its partial folder: an
    unfinished download that ``Download`` resumes (0: none)."""
    spec = _spec(spec) if isinstance(spec, str) else spec
    partial = partial_folder(spec)
    total = 0
    for entry in spec.files:
        for path in (partial / entry.path, partial / (entry.path + ".part")):
            if path.is_file():
                total += path.stat().st_size
    return total


def _spec(name: str) -> ModelSpec:
    try:
        return get_spec(name)
    except KeyError as exc:
        raise ModelError(f"{exc.args[0]}; `vistavox models` lists them") from exc


def set_active(
    name: str,
    *,
    kind: ModelKind | None = None,
    settings: AppSettings | None = None,
    save: bool = True,
) -> set[str]:
    """Make ``name`` the model of its kind in ``settings`` (default: the saved settings;
    give the running app's own object so it sees the change) and save them. ``name`` ""
    with ``kind`` goes back to the automatic choice (language model), the built-in one
    (speech, voice) or none (vision). Choosing a kind's built-in default stores "" for
    speech and voice (the same model), but the name for the language model (automatic
    would pick the best one installed instead).

    Returns the names of the settings that changed (e.g. {"llm_model"}; empty if none):
    what ``Assistant.switch_models`` takes to load the new model without a restart.
    Raises ModelError for an unknown or missing model (the message says how to get it),
    a kind mismatch, or the embedding model (there is no choice of it)."""
    if name:
        spec = _spec(name)
        if kind is not None and kind != spec.kind:
            raise ModelError(f"{spec.title} is a {spec.kind.value} model, not {kind.value}")
        kind = spec.kind
    elif kind is None:
        raise ModelError("say which kind of model goes back to the automatic choice")
    field = SETTING_FOR_KIND.get(kind)
    if field is None:
        raise ModelError(f"the {kind.value} model cannot be chosen: there is only the built-in one")
    value = ""
    if name:
        resolve(spec)  # raises, saying how to get it, when it is not installed
        if not (spec.default and kind in (ModelKind.STT, ModelKind.TTS)):
            value = spec.name
    s = settings if settings is not None else AppSettings.load()
    if getattr(s, field) == value:
        return set()
    setattr(s, field, value)
    if save:
        s.save()
    return {field}


def delete(name: str, *, settings: AppSettings | None = None, save: bool = True) -> Path:
    """Remove a downloaded model (and any unfinished download of it) from the models
    folder; the folder it was in. A setting that chose it goes back to the automatic
    choice (in ``settings``, default the saved ones). Raises ModelError for a built-in
    model (its files belong to a Python package), one that is downloading (cancel it
    first) or one that is not there. The caller makes sure the app is not using it."""
    spec = _spec(name)
    if isinstance(spec.source, PackageSource):
        raise ModelError(
            f"{spec.title} is built in (it comes with the Python package "
            f"'{spec.source.distribution}') and cannot be deleted"
        )
    if running_download(spec.name) is not None:
        raise ModelError(f"{spec.title} is downloading: cancel the download first")
    final = user_models_dir() / spec.name
    partial = partial_folder(spec)
    if not final.exists() and not partial.exists():
        raise ModelError(f"{spec.title} is not installed: there is nothing to delete")
    if final.exists():
        # Renamed first, so that a deletion cut short never leaves a half model in place.
        doomed = final.with_name(f".{spec.name}.deleting")
        if doomed.exists():
            shutil.rmtree(doomed)
        final.rename(doomed)
        shutil.rmtree(doomed)
    if partial.exists():
        shutil.rmtree(partial)
    field = SETTING_FOR_KIND.get(spec.kind)
    if field is not None:
        s = settings if settings is not None else AppSettings.load()
        if getattr(s, field) == spec.name:
            setattr(s, field, "")
            if save:
                s.save()
    return final


def discard_partial(name: str) -> bool:
    """Delete the unfinished download of ``name`` (whether paused here or left by an
    earlier run); whether there was one. Raises ModelError while it downloads."""
    spec = _spec(name)
    if running_download(spec.name) is not None:
        raise ModelError(f"{spec.title} is downloading: cancel the download instead")
    partial = partial_folder(spec)
    if not partial.exists():
        return False
    shutil.rmtree(partial)
    return True


@dataclass(frozen=True)
class HubStatus:
    """Whether the Hugging Face Hub answered, and what to tell the user."""

    reachable: bool
    endpoint: str
    message: str


def check_hub(
    *, endpoint: str | None = None, name: str | None = None, timeout: float = 5.0
) -> HubStatus:
    """Ask the Hub for one file's metadata (of model ``name``, default the first Hub
    model's first file). Blocks up to ``timeout`` s: not on a GUI thread."""
    spec = _spec(name) if name else next(s for s in MANIFEST if isinstance(s.source, HubSource))
    base = hub_endpoint(endpoint)
    try:
        remote_file(spec, spec.files[0], endpoint=base, timeout=timeout)
    except HubUnreachable as exc:
        mirrored = [s.name for s in MANIFEST if isinstance(s.source, HubSource) and s.source.mirror]
        also = (
            f" Models with a copy on the package registry can still be downloaded: "
            f"{', '.join(mirrored)}."
            if mirrored
            else ""
        )
        return HubStatus(
            False, base, f"The Hugging Face Hub cannot be reached ({exc.detail}).{also}"
        )
    except ModelError as exc:  # it answered, about that file
        return HubStatus(True, base, f"The Hub answered: {exc}")
    return HubStatus(True, base, "The Hugging Face Hub can be reached.")


def remote_size(name: str, *, endpoint: str | None = None) -> int | None:
    """The model's size in bytes as the Hub gives it (None if it does not say): for
    models whose manifest entry has no sizes. Raises HubUnreachable or ModelError."""
    spec = _spec(name)
    sizes = [remote_file(spec, f, endpoint=endpoint).size for f in spec.files]
    return None if any(s is None for s in sizes) else sum(sizes)  # type: ignore[misc]
