"""Speech to text with faster-whisper (CTranslate2)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np
from faster_whisper import WhisperModel

from ...models.manifest import ModelKind
from ...models.resolve import ResolvedModel, resolve_default
from ..scheduling import RECOGNITION, new_threads_lowered

# Phrases Whisper is known to invent on silence or noise (learned from video subtitles).
_HALLUCINATIONS = re.compile(
    r"^\W*(thank(s| you)( so much)? for watching|please subscribe|subtitles by|"
    r"(thank you\W*)+|you)\W*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Transcript:
    """What was said, with Whisper's confidence figures."""

    text: str
    avg_logprob: float
    no_speech_prob: float


@dataclass(frozen=True)
class SttSettings:
    """Decoding settings; beam 1 is the fast default for live speech."""

    beam_size: int = 1
    compute_type: str = "int8"
    cpu_threads: int = 0  # 0: all cores
    no_speech_threshold: float = 0.6


def looks_like_hallucination(text: str, no_speech_prob: float, avg_logprob: float) -> bool:
    """True for text Whisper probably made up rather than heard."""
    if _HALLUCINATIONS.match(text.strip()):
        return no_speech_prob > 0.2 or avg_logprob < -0.7
    return no_speech_prob > 0.8 and avg_logprob < -1.0


class Transcriber:
    """A loaded Whisper model. Load once and share; ``transcribe`` is thread-safe."""

    def __init__(self, model: ResolvedModel | None = None, settings: SttSettings | None = None):
        self.model_info = model or resolve_default(ModelKind.STT)
        self.settings = settings or SttSettings()
        threads = self.settings.cpu_threads or os.cpu_count() or 1
        # CTranslate2 starts its worker threads as the model loads and first runs; they do
        # the computing, and the listening stage must come before them.
        with new_threads_lowered(RECOGNITION):
            self._model = WhisperModel(
                str(self.model_info.root),
                device="cpu",
                compute_type=self.settings.compute_type,
                cpu_threads=threads,
            )
            self.transcribe(np.zeros(8_000, dtype=np.float32))

    def transcribe(self, audio: np.ndarray, *, hint: str | None = None) -> Transcript:
        """Transcribe 16 kHz mono float32 speech (already trimmed of long silences).

        ``hint``: words the user is likely to say now (Whisper's initial prompt), e.g. the
        vocabulary of page edits while a page is open ("dark mode", not "Dart mode")."""
        segments, _info = self._model.transcribe(
            audio,
            initial_prompt=hint or None,
            language="en",
            beam_size=self.settings.beam_size,
            condition_on_previous_text=False,
            no_speech_threshold=self.settings.no_speech_threshold,
            vad_filter=False,
            without_timestamps=True,
        )
        kept: list[str] = []
        logprobs: list[float] = []
        no_speech: list[float] = []
        for seg in segments:
            if looks_like_hallucination(seg.text, seg.no_speech_prob, seg.avg_logprob):
                continue
            kept.append(seg.text.strip())
            logprobs.append(seg.avg_logprob)
            no_speech.append(seg.no_speech_prob)
        text = " ".join(t for t in kept if t)
        return Transcript(
            text=text,
            avg_logprob=float(np.mean(logprobs)) if logprobs else float("-inf"),
            no_speech_prob=float(np.max(no_speech)) if no_speech else 1.0,
        )
