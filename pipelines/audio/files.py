"""Reading any common audio file as 16 kHz mono, and writing WAV files safely."""

from __future__ import annotations

import io
import os
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from faster_whisper.audio import decode_audio

from ..errors import AudioInputError
from ..files import write_atomic

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


def write_wav(path: str | os.PathLike[str], audio: np.ndarray, rate: int) -> None:
    """Write mono float audio in [-1, 1] as 16-bit PCM WAV, atomically."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(audio, -1.0, 1.0), rate, subtype="PCM_16", format="WAV")
    write_atomic(path, buffer.getvalue())
