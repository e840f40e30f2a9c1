"""Writing files safely: fail early when a path cannot be written, and replace files
atomically so a crash, a kill or a full disk never leaves half a file."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import OutputPathError

__all__ = ["check_writable", "read_json", "set_aside", "write_atomic"]
_log = logging.getLogger(__name__)


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Fail early, before any heavy work, if ``path`` cannot be written."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputPathError(f"{path}: is a folder; give a file name")
    if not folder.is_dir():
        raise OutputPathError(f"{path}: cannot write, folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"{path}: cannot write, no permission to write in {folder}")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(f"{path}: cannot write, the file is read-only")
    return path


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and rename, so a crash or a full
    disk never leaves a truncated file in place of a good one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputPathError(f"{path}: could not be written ({exc.strerror or exc})") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: str | os.PathLike[str]) -> Any:
    """The JSON value in the file at ``path`` (UTF-8, with or without a byte-order mark).
    OSError when it cannot be read (FileNotFoundError when absent); ValueError when it is
    not JSON, including JSON nested too deeply for the parser."""
    text = Path(path).read_text(encoding="utf-8-sig")
    try:
        return json.loads(text)
    except RecursionError as exc:  # "[[[[…" 1500 deep: json's C parser recurses
        raise ValueError("nested too deeply") from exc


def set_aside(path: str | os.PathLike[str], why: object) -> Path | None:
    """Move a damaged user file out of the way, kept as ``NAME.damaged`` for the user to look
    at (a later save must not overwrite it unseen); logs why. Returns where it went."""
    path = Path(path)
    target = path.with_name(path.name + ".damaged")
    number = 1
    while target.exists() or target.is_symlink():  # (an earlier one is the user's too)
        number += 1
        target = path.with_name(f"{path.name}.damaged-{number}")
    try:
        path.replace(target)
    except OSError:
        return None
    _log.warning("%s cannot be used (%s); it was kept as %s", path, why, target.name)
    return target
