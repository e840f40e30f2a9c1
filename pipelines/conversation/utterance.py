"""The audio of the utterance being heard, in the three forms the engine needs, each with
the stretch before its onset (the preroll)."""

from __future__ import annotations

from collections import deque

import numpy as np

from ..speech.endpoint import FRAME

_RATE = 16_000
# Held speech starts this early: the assistant's words may lead it (and its echo checks
# compare that much of what the microphone heard with the speaker's sound).
HELD_PREROLL_S = 1.0


def _concat(frames: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(frames) if frames else np.zeros(0, np.float32)


class Utterance:
    """Frames of the utterance as the recogniser gets them (``heard``: echo-cancelled
    where that helps), as the microphone gave them (``raw``: echo that got past the
    canceller is clearest there, so held speech is judged on it) and as the canceller left
    them (``cancelled``: the user's words over the echo are clearest there).

    Before speech starts, frames go to the prerolls; at the start the prerolls lead the
    utterance (the raw and cancelled ones are longer: the echo checks may have taken the
    user's first words for echo).
    """

    def __init__(self, preroll_s: float, held_preroll_s: float) -> None:
        self._heard_pre: deque[np.ndarray] = deque(maxlen=max(1, int(preroll_s * _RATE / FRAME)))
        held = max(1, int(held_preroll_s * _RATE / FRAME))
        self._raw_pre: deque[np.ndarray] = deque(maxlen=held)
        self._cancelled_pre: deque[np.ndarray] = deque(maxlen=held)
        self._heard: list[np.ndarray] = []
        self._raw: list[np.ndarray] = []
        self._cancelled: list[np.ndarray] = []

    def before_speech(self, heard: np.ndarray, raw: np.ndarray, cancelled: np.ndarray) -> None:
        self._heard_pre.append(heard)
        self._raw_pre.append(raw)
        self._cancelled_pre.append(cancelled)

    def add(self, heard: np.ndarray, raw: np.ndarray, cancelled: np.ndarray) -> None:
        self._heard.append(heard)
        self._raw.append(raw)
        self._cancelled.append(cancelled)

    def add_heard(self, heard: np.ndarray) -> None:
        """Push-to-talk keeps only what the recogniser gets."""
        self._heard.append(heard)

    def start(self) -> None:
        """Speech started: the prerolls lead the utterance."""
        self._heard[:0] = self._heard_pre
        self._raw[:0] = self._raw_pre
        self._cancelled[:0] = self._cancelled_pre
        self._heard_pre.clear()
        self._raw_pre.clear()
        self._cancelled_pre.clear()

    def start_heard(self) -> None:
        """Push-to-talk: the button went down; the preroll leads what is said."""
        self._heard = list(self._heard_pre)

    def carry(self, audio: np.ndarray, gap_s: float = 0.3) -> None:
        """Put earlier audio (an utterance withdrawn before it was transcribed) in front,
        with a short gap between the two."""
        if not audio.size:
            return
        lead = [audio, np.zeros(int(gap_s * _RATE), np.float32)]
        self._heard[:0] = lead
        self._raw[:0] = lead
        self._cancelled[:0] = lead

    def clear(self) -> None:
        """The utterance was taken: start afresh (prerolls too)."""
        self._heard, self._raw, self._cancelled = [], [], []
        self._heard_pre.clear()
        self._raw_pre.clear()
        self._cancelled_pre.clear()

    @property
    def frames(self) -> int:
        return len(self._heard)

    @property
    def raw_samples(self) -> int:
        return sum(f.size for f in self._raw)

    def heard(self) -> np.ndarray:
        return _concat(self._heard)

    def raw(self) -> np.ndarray:
        return _concat(self._raw)

    def cancelled(self) -> np.ndarray:
        return _concat(self._cancelled)
