"""Live voice activity detection and endpointing.

``StreamingVad`` runs Silero VAD (the ONNX model faster-whisper ships) on 32 ms frames,
keeping its recurrent state between calls. ``Endpointer`` is a pure state machine that turns
per-frame speech probabilities into speech start, pause (a likely end, early enough to start
work speculatively), resume and end decisions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import onnxruntime
from faster_whisper.utils import get_assets_path

FRAME = 512  # samples per VAD frame at 16 kHz (32 ms)
_CONTEXT = 64


class StreamingVad:
    """Speech probability of consecutive 512-sample frames of 16 kHz audio."""

    def __init__(self) -> None:
        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(
            os.path.join(get_assets_path(), "silero_vad_v6.onnx"),
            providers=["CPUExecutionProvider"],
            sess_options=options,
        )
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)

    def follow(self, other: StreamingVad) -> None:
        """Take ``other``'s state, as if this one had heard what it heard (the arrays are
        replaced, never changed in place, so they can be shared)."""
        self._h, self._c, self._context = other._h, other._c, other._context

    def __call__(self, frame: np.ndarray) -> float:
        if frame.shape != (FRAME,):
            raise ValueError(f"VAD frames are {FRAME} samples, got {frame.shape}")
        batch = np.concatenate([self._context, frame.astype(np.float32, copy=False)])[None, :]
        out, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = frame[-_CONTEXT:].astype(np.float32, copy=True)
        return float(out.reshape(-1)[0])


class Decision(StrEnum):
    START = "start"  # speech began (at ``onset``)
    PAUSE = "pause"  # silence after speech: a likely end; start work speculatively
    RESUME = "resume"  # speech came back after a pause: drop speculative work
    END = "end"  # the endpoint: the turn is over


@dataclass(frozen=True)
class EndpointSettings:
    """Tunable turn-taking. Times are in milliseconds of audio."""

    start_threshold: float = 0.5
    stop_threshold: float = 0.35
    min_speech_ms: int = 96  # speech this long starts a turn (and barges in)
    pause_ms: int = 96  # silence this long is a likely end
    hangover_ms: int = 416  # silence this long ends the turn
    # ... or this long, once the words said so far make a whole sentence (see hurry)
    quick_hangover_ms: int = 256
    max_turn_s: float = 30.0


@dataclass(frozen=True)
class Endpoint:
    decision: Decision
    at: float  # seconds on the input timeline where it applies (onset, or end of speech)


class Endpointer:
    """Per-frame speech probabilities in, turn-taking decisions out. No audio, no clock."""

    def __init__(self, settings: EndpointSettings | None = None, frame_s: float = FRAME / 16_000):
        self.settings = settings or EndpointSettings()
        self.frame_s = frame_s
        self.reset()

    def reset(self) -> None:
        self.in_speech = False
        self.paused = False
        self._t = 0.0
        self._run_start: float | None = None  # start of the current run of speech frames
        self._speech_start = 0.0
        self._last_speech_end = 0.0
        self._hangover_s = self.settings.hangover_ms / 1000

    def hurry(self, hangover_ms: int) -> None:
        """End the current pause after ``hangover_ms`` of silence instead (the words said
        so far make a whole sentence); speech resuming restores the usual hangover."""
        self._hangover_s = min(self._hangover_s, hangover_ms / 1000)

    def push(self, probability: float) -> list[Endpoint]:
        """Feed one frame's speech probability; returns the decisions it triggers."""
        s = self.settings
        frame_start, self._t = self._t, self._t + self.frame_s
        out: list[Endpoint] = []
        if not self.in_speech:
            if probability >= s.start_threshold:
                if self._run_start is None:
                    self._run_start = frame_start
                if self._t - self._run_start >= s.min_speech_ms / 1000 - 1e-9:
                    self.in_speech, self.paused = True, False
                    self._hangover_s = s.hangover_ms / 1000
                    self._speech_start = self._run_start
                    self._last_speech_end = self._t
                    out.append(Endpoint(Decision.START, self._run_start))
            else:
                self._run_start = None
            return out

        threshold = s.stop_threshold if not self.paused else s.start_threshold
        if probability >= threshold:
            if self.paused:
                self.paused = False
                self._hangover_s = s.hangover_ms / 1000
                out.append(Endpoint(Decision.RESUME, frame_start))
            self._last_speech_end = self._t
        else:
            silence = self._t - self._last_speech_end
            if not self.paused and silence >= s.pause_ms / 1000 - 1e-9:
                self.paused = True
                out.append(Endpoint(Decision.PAUSE, self._last_speech_end))
            if silence >= self._hangover_s - 1e-9:
                self.in_speech = self.paused = False
                self._run_start = None
                out.append(Endpoint(Decision.END, self._last_speech_end))
        if self.in_speech and self._t - self._speech_start >= s.max_turn_s:
            # Too long without a pause: end the turn here so it gets an answer.
            self.in_speech = self.paused = False
            self._run_start = None
            out.append(Endpoint(Decision.END, self._t))
        return out
