"""Microphone blocks → echo cancellation → aligned frames for the listener, with the level
meter and a warning when listening falls behind the microphone."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..audio.files import SPEECH_RATE
from ..audio.microphone import MicBlock
from ..events import LevelMeter
from ..speech.endpoint import FRAME

_AUDIBLE_DB = -50.0  # the speaker played louder than this lately: its echo may be around
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CapturedFrame:
    """One VAD frame of the microphone, as it came and as the canceller left it."""

    raw: np.ndarray
    cancelled: np.ndarray
    end_s: float  # its end on the input timeline
    captured_at: float  # time.monotonic() when its last sample was captured
    assistant_audible: bool  # the assistant's voice (or its echo tail) may be in it
    echo_path: bool  # its voice may come back into the microphone (False: known not to)


class Capture:
    """Turns microphone blocks into frames. ``echo`` is the EchoCanceller (or None)."""

    def __init__(
        self, echo, *, on_level: Callable[[LevelMeter], None], level_every_s: float
    ) -> None:
        self.echo = echo
        self._on_level = on_level
        self._level_every_s = level_every_s
        self._last_level = 0.0
        self._last_behind_note = 0.0
        self._raw_lag = np.zeros(0, np.float32)  # raw samples the canceller still holds
        self._raw = np.zeros(0, np.float32)
        self._cleaned = np.zeros(0, np.float32)

    def frames(self, block: MicBlock) -> Iterator[CapturedFrame]:
        raw = block.samples
        cleaned = raw
        if self.echo is not None:
            cleaned = self.echo.process(raw, block.captured)
            # The canceller's output lags by < 10 ms; keep both streams the same length.
            self._raw_lag = np.concatenate([self._raw_lag, raw])
            raw, self._raw_lag = self._raw_lag[: cleaned.size], self._raw_lag[cleaned.size :]
        now = time.monotonic()
        if now - self._last_level >= self._level_every_s and cleaned.size:
            self._last_level = now
            self._on_level(level(cleaned))
        self._warn_if_behind(block, now)
        self._cleaned = np.concatenate([self._cleaned, cleaned])
        self._raw = np.concatenate([self._raw, raw])
        audible = self.echo is not None and self.echo.reference_level_db() > _AUDIBLE_DB
        echo_path = self.echo is None or self.echo.echo_path() is not False
        block_end_s = block.start_s + block.samples.size / SPEECH_RATE
        while self._cleaned.size >= FRAME:
            cancelled, self._cleaned = self._cleaned[:FRAME], self._cleaned[FRAME:]
            raw_frame, self._raw = self._raw[:FRAME], self._raw[FRAME:]
            end_s = block_end_s - self._cleaned.size / SPEECH_RATE
            yield CapturedFrame(
                raw_frame, cancelled, end_s, to_monotonic(end_s, block), audible, echo_path
            )

    def _warn_if_behind(self, block: MicBlock, now: float) -> None:
        behind = now - block.captured - block.samples.size / SPEECH_RATE
        if behind > 1.0 and now - self._last_behind_note > 10.0:
            self._last_behind_note = now
            _log.warning(
                "listening runs %.1f s behind the microphone: the machine is overloaded", behind
            )


def to_monotonic(audio_s: float, block: MicBlock) -> float:
    """Map a position on the input timeline to time.monotonic(): when that sound was
    captured (not when it was processed, which is later when listening falls behind)."""
    return block.captured + (audio_s - block.start_s)


def rms_db(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(samples**2)) + 1e-10))


def level(samples: np.ndarray) -> LevelMeter:
    peak = float(np.max(np.abs(samples)) + 1e-10)
    return LevelMeter(rms_db=rms_db(samples), peak_db=20 * np.log10(peak))


class RecentAudio:
    """The last ``seconds`` of raw microphone frames, whatever utterance they were in."""

    def __init__(self, seconds: float) -> None:
        self._need = round(seconds * SPEECH_RATE)
        self._frames: deque[np.ndarray] = deque(maxlen=-(-self._need // FRAME) + 1)

    def add(self, frame: np.ndarray) -> None:
        self._frames.append(frame)

    def at_least(self, audio: np.ndarray) -> np.ndarray:
        """``audio`` (which ends with the newest frame added), or the last ``seconds`` heard
        when it is shorter (speech that began soon after an earlier stretch was taken has
        a short preroll)."""
        if audio.size >= self._need or not self._frames:
            return audio
        recent = np.concatenate(self._frames)
        return recent[-self._need :] if recent.size > audio.size else audio
