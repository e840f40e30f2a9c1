"""Reading any common audio file as 16 kHz mono, and writing WAV files safely."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from faster_whisper.audio import decode_audio

from ..errors import AudioInputError, OutputPathError

SPEECH_RATE = 16_000
"""Sample rate of everything the speech models hear."""

MAX_INPUT_SECONDS = 600.0
"""Longest audio file accepted as one spoken turn."""


def load_audio(path: str | os.PathLike[str], rate: int = SPEECH_RATE) -> np.ndarray:
    """Decode wav/flac/mp3/ogg/... to mono float32 at ``rate`` Hz.

    Raises AudioInputError with a one-line reason for a missing, unreadable, non-audio,
    empty or overlong file.
    """
    path = Path(path)
    if not path.exists():
        raise AudioInputError(f"{path}: no such file")
    if path.is_dir():
        raise AudioInputError(f"{path}: is a folder, not an audio file")
    if not os.access(path, os.R_OK):
        raise AudioInputError(f"{path}: permission denied")
    if path.stat().st_size == 0:
        raise AudioInputError(f"{path}: the file is empty")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioInputError(f"{path}: has no audio track")
            duration = _container_seconds(container)
    except AudioInputError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise AudioInputError(f"{path}: not an audio file that can be decoded ({reason})") from exc
    if duration is not None and duration > MAX_INPUT_SECONDS:
        raise AudioInputError(
            f"{path}: {duration:.0f} s is too long for one spoken turn "
            f"(limit {MAX_INPUT_SECONDS:.0f} s)"
        )
    try:
        audio = decode_audio(str(path), sampling_rate=rate)
    except (av.error.FFmpegError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise AudioInputError(f"{path}: the audio could not be decoded ({reason})") from exc
    if audio.size == 0:
        raise AudioInputError(f"{path}: contains no audio samples")
    if audio.size > MAX_INPUT_SECONDS * rate:
        raise AudioInputError(
            f"{path}: {audio.size / rate:.0f} s is too long for one spoken turn "
            f"(limit {MAX_INPUT_SECONDS:.0f} s)"
        )
    return audio.astype(np.float32, copy=False)


def _container_seconds(container: av.container.InputContainer) -> float | None:
    if container.duration is None:
        return None
    return container.duration / av.time_base


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


def write_wav(path: str | os.PathLike[str], audio: np.ndarray, rate: int) -> None:
    """Write mono float audio in [-1, 1] as 16-bit PCM WAV, atomically."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(audio, -1.0, 1.0), rate, subtype="PCM_16", format="WAV")
    write_atomic(path, buffer.getvalue())
