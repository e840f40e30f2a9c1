"""Voice activity detection with Silero VAD (the ONNX model that faster-whisper ships)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from ..audio.files import SPEECH_RATE
from ..errors import NoSpeechError


@dataclass(frozen=True)
class SpeechSpan:
    """A stretch of speech, in samples at 16 kHz."""

    start: int
    end: int

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / SPEECH_RATE


@dataclass(frozen=True)
class TrimSettings:
    """How speech is separated from silence."""

    threshold: float = 0.5
    min_speech_ms: int = 120
    min_silence_ms: int = 500
    pad_ms: int = 200


def speech_spans(audio: np.ndarray, settings: TrimSettings | None = None) -> list[SpeechSpan]:
    """Where the speech is in 16 kHz mono ``audio``."""
    settings = settings or TrimSettings()
    options = VadOptions(
        threshold=settings.threshold,
        min_speech_duration_ms=settings.min_speech_ms,
        min_silence_duration_ms=settings.min_silence_ms,
        speech_pad_ms=settings.pad_ms,
    )
    stamps = get_speech_timestamps(audio, options, sampling_rate=SPEECH_RATE)
    return [SpeechSpan(int(s["start"]), int(s["end"])) for s in stamps]


def trim_silence(audio: np.ndarray, settings: TrimSettings | None = None) -> np.ndarray:
    """Cut leading and trailing silence (keeping pauses inside the speech).

    Raises NoSpeechError when there is no speech at all.
    """
    spans = speech_spans(audio, settings)
    if not spans:
        raise NoSpeechError("no speech found in the audio (it is silent, or only noise)")
    return audio[spans[0].start : spans[-1].end]
