"""Find a model's files on this machine, or say exactly what is missing and how to get it."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .manifest import (
    PREFERRED_LLMS,
    HubSource,
    ModelKind,
    ModelSpec,
    PackageSource,
    defaults,
    get_spec,
)


class ModelError(Exception):
    """A model cannot be used: missing, incomplete or corrupt. The message says what to do."""


@dataclass(frozen=True)
class ResolvedModel:
    """A model whose files are all present."""

    spec: ModelSpec
    root: Path

    def file(self, relative: str) -> Path:
        """Absolute path of one of the model's files."""
        return self.root / relative

    @property
    def main_file(self) -> Path:
        """The model's principal file (the first in the manifest)."""
        return self.file(self.spec.files[0].path)


def user_models_dir() -> Path:
    """Where downloaded models live (override with VISTAVOX_MODELS_DIR)."""
    override = os.environ.get("VISTAVOX_MODELS_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir("vistavox")) / "models"


def _package_root(source: PackageSource) -> Path | None:
    # find_spec locates the package without importing it (some weight packages import
    # optional plugin frameworks in their __init__).
    try:
        found = importlib.util.find_spec(source.package)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    return Path(next(iter(found.submodule_search_locations))) / source.subdir


def model_root(spec: ModelSpec) -> Path | None:
    """The folder that should hold the model's files, or None if its package is absent.
    A built-in model whose package is not installed may have been taken out of its wheel
    into the models folder (``package_fetch``, for installs from Vistavox's own wheel)."""
    if isinstance(spec.source, PackageSource):
        root = _package_root(spec.source)
        if root is None and (user_models_dir() / spec.name).is_dir():
            return user_models_dir() / spec.name
        return root
    assert isinstance(spec.source, HubSource)
    return user_models_dir() / spec.name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve(spec_or_name: ModelSpec | str, *, verify_hashes: bool = False) -> ResolvedModel:
    """Return the model's location after checking every file is present with the right size.

    With ``verify_hashes`` the files' SHA-256 are checked as well (slower: reads every byte).
    Raises ModelError with an actionable message otherwise.
    """
    try:
        spec = get_spec(spec_or_name) if isinstance(spec_or_name, str) else spec_or_name
    except KeyError as exc:
        raise ModelError(f"{exc.args[0]}; `vistavox models` lists them") from exc
    root = model_root(spec)
    if root is None:
        assert isinstance(spec.source, PackageSource)
        raise ModelError(
            f"{spec.title} is missing: the Python package '{spec.source.distribution}' "
            f"is not installed. Get it with: vistavox models download {spec.name} "
            f"(or: {spec.install_hint})"
        )
    if isinstance(spec.source, HubSource) and not root.is_dir():
        raise ModelError(
            f"{spec.title} is not downloaded yet. Get it with: vistavox models download "
            f"{spec.name} (from huggingface.co/{spec.source.repo_id})"
        )
    for entry in spec.files:
        path = root / entry.path
        if not path.is_file():
            raise ModelError(
                f"{spec.title} is incomplete: {path} does not exist. "
                f"Reinstall it with: {spec.install_hint}"
            )
        size = path.stat().st_size
        if entry.size is not None and size != entry.size:
            raise ModelError(
                f"{spec.title} is corrupt: {path} has {size} bytes, expected {entry.size}. "
                f"Reinstall it with: {_reinstall_hint(spec)}"
            )
        if verify_hashes and entry.sha256 and _sha256(path) != entry.sha256:
            raise ModelError(
                f"{spec.title} is corrupt: {path} does not match its SHA-256 checksum. "
                f"Reinstall it with: {_reinstall_hint(spec)}"
            )
    return ResolvedModel(spec=spec, root=root)


def _reinstall_hint(spec: ModelSpec) -> str:
    hint = spec.install_hint
    return hint.replace("pip install", "pip install --force-reinstall", 1)


def resolve_default(kind: ModelKind) -> ResolvedModel:
    """Resolve the default model of a kind (speech recognition, voice, language model)."""
    spec = defaults().get(kind)
    if spec is None:
        raise ModelError(f"no default {kind.value} model is configured")
    return resolve(spec)


def resolve_language_model(name: str = "") -> ResolvedModel:
    """The language model to use: ``name`` if given (or in ``$VISTAVOX_LLM``, for scripts
    and tests), else the first of the preferred models that is installed (see
    ``PREFERRED_LLMS``), else the embedded default."""
    name = name or os.environ.get("VISTAVOX_LLM", "").strip()
    return resolve(name) if name else preferred_language_model()


def preferred_language_model() -> ResolvedModel:
    """The first of the preferred language models that is installed, else the embedded
    default: what the app uses when nothing names a model."""
    for preferred in PREFERRED_LLMS:
        try:
            return resolve(preferred)
        except ModelError:
            continue
    return resolve_default(ModelKind.LLM)
