"""Reading any common audio file as 16 kHz mono, and writing WAV files safely."""

from __future__ import annotations

import gc
import io
import os
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import soundfile as sf

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
        audio = _decode(path, rate)
    except (av.error.FFmpegError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise AudioInputError(f"{path}: the audio could not be decoded ({reason})") from exc
    if audio.size == 0:
        raise AudioInputError(f"{path}: contains no audio samples")
    return audio


def _decode(path: Path, rate: int) -> np.ndarray:
    """Mono float32 at ``rate``, decoded frame by frame and stopped once it is longer
    than MAX_INPUT_SECONDS: a file without a length in its header can hold hours (16 kB of
    FLAC is 700 s of silence), which must not be decoded whole first."""
    limit = int(MAX_INPUT_SECONDS * rate)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    chunks: list[np.ndarray] = []
    total = 0
    with av.open(str(path), metadata_errors="ignore") as container:
        for frame in _valid_frames(container):
            frame.pts = None  # resample whatever the timestamps say (as faster-whisper does)
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
                total += chunks[-1].size
            if total > limit:
                break
        else:
            chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
            total = sum(chunk.size for chunk in chunks)
    del resampler
    gc.collect()  # PyAV's resampler keeps buffers until collected (faster-whisper issue 390)
    if total > limit:
        raise AudioInputError(
            f"{path}: longer than {MAX_INPUT_SECONDS:.0f} s, too long for one spoken turn"
        )
    if not chunks:
        return np.zeros(0, np.float32)
    return np.concatenate(chunks).astype(np.float32) / 32768.0


def _valid_frames(container: av.container.InputContainer) -> Iterator[av.AudioFrame]:
    """The audio frames, skipping ones FFmpeg finds damaged (a bad frame in a long file)."""
    frames = container.decode(audio=0)
    while True:
        try:
            yield next(frames)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue


def _container_seconds(container: av.container.InputContainer) -> float | None:
    if container.duration is None:
        return None
    return container.duration / av.time_base


def write_wav(path: str | os.PathLike[str], audio: np.ndarray, rate: int) -> None:
    """Write mono float audio in [-1, 1] as 16-bit PCM WAV, atomically."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(audio, -1.0, 1.0), rate, subtype="PCM_16", format="WAV")
    write_atomic(path, buffer.getvalue())
