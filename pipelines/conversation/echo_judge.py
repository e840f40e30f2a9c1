"""The verdict on held speech: the user, or the assistant's own voice coming back?

Speech that starts while the assistant talks (or just did) through speakers is held, with
playback paused, until it is judged. The acoustic evidence decides first: where the voice
is known not to come back, or the held speech does not follow the speaker's signal at any
delay, it is the user's whatever its words (the user may quote the reply); speech that
follows the speaker closely, where its voice has been heard coming back, is echo whatever
the recogniser made of it. Only in between do the words decide (``self_hearing``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..speech.endpoint import FRAME
from ..speech.self_hearing import is_misheard_reply_word, sounds_like_echo, without_echo, words
from .turns import Suspicion
from .utterance import HELD_PREROLL_S

_RATE = 16_000
# Speech this long, heard while no echo could reach the microphone, is someone talking.
_CLEAR_SPEECH_S = 0.25
# Held speech the canceller took this much echo out of is judged as it left it, too (seen
# live: 0.5-1.1 s of the second before the user's onset where it follows a 30 ms echo path,
# 0.0-0.45 s where it cannot follow a 1.8 s one).
_CANCELLED_ECHO_S = 0.5
# ... if it left this much of it loud: the user's voice (the echo it could not take out,
# which the recogniser turns into words, is shorter).
_CANCELLED_VOICE_S = 0.8
# Held speech whose envelope follows the speaker's this closely at some delay is its echo
# (echo alone gives 0.99-1.00, the user over it 0.48-0.74; see tests/test_turn_taking.py).
FOLLOWS_ECHO = 0.95
# Echo comes back at most this long after the assistant said it (the slowest echo paths
# the acoustic checks look for, and the room's tail): only what was said in that window
# before or during held speech can be its echo. (Times are when the sound was played and
# captured, so a listener that fell behind under load does not widen it.)
_ECHO_REACH_S = 3.5
_log = logging.getLogger(__name__)

Transcribe = Callable[[np.ndarray, str | None], str]


@dataclass(frozen=True)
class Verdict:
    echo: bool
    text: str  # the user's words (the assistant's own removed from their start)
    heard: str  # as transcribed


class EchoJudge:
    """Judges held speech against what the assistant said. ``transcribe(audio, hint)``
    gives the words of audio (the held speech is transcribed again in parts when its first
    transcript sounds like echo)."""

    def __init__(self, transcribe: Transcribe, *, echo_gate_db: float) -> None:
        self._transcribe = transcribe
        self._gate_db = echo_gate_db
        self._lock = threading.Lock()
        # (started, ended, phrase): what the assistant said, when it was played
        self._spoken: deque[tuple[float, float, str]] = deque(maxlen=64)

    def note_spoken(self, text: str, seconds: float = 0.0, at: float | None = None) -> None:
        """The assistant started saying ``text`` (``seconds`` long) at ``at`` (now)."""
        start = time.monotonic() if at is None else at
        with self._lock:
            self._spoken.append((start, start + seconds, text))

    def recent(self, suspicion: Suspicion) -> str:
        """What the assistant said that held speech may be the echo of: phrases played
        during it or shortly before (the held audio starts a second before its onset)."""
        since = suspicion.started - HELD_PREROLL_S - _ECHO_REACH_S
        until = suspicion.ended if suspicion.ended is not None else float("inf")
        with self._lock:
            return " ".join(t for start, end, t in self._spoken if end >= since and start <= until)

    def _last_before(self, suspicion: Suspicion) -> str:
        """What the assistant was saying as the held speech began (its words may lead it)."""
        before = suspicion.started - HELD_PREROLL_S
        with self._lock:
            since = max((at for at, _, _ in self._spoken if at <= before), default=float("-inf"))
            return " ".join(t for at, _, t in self._spoken if at >= since)

    # -- the acoustic evidence -------------------------------------------------------------
    @staticmethod
    def no_echo_here(suspicion: Suspicion) -> bool:
        """Does the acoustic evidence rule echo out? The voice is known not to come back
        (headphones): the user's words are theirs, even where they are the reply's (a small
        model completes a famous quotation before the user has finished saying it)."""
        return suspicion.echo_path is False

    # -- words -----------------------------------------------------------------------------
    def words(self, audio: np.ndarray, suspicion: Suspicion, text: str, hint: str | None) -> str:
        """The words to judge held speech by, given ``text``, its transcript as the
        microphone heard it (where the assistant's echo is clearest, so echo is told by it).

        Over the assistant's louder voice the recogniser may write that voice alone and
        lose the user's words. When speech went on after playback paused, where no echo can
        reach the microphone, that stretch transcribed on its own gives them. And speech
        that is the user's is transcribed again as the canceller left it, without the echo
        under their first words, if some of the assistant's words lead ``text``: those
        words replace ``text`` unless they, too, are the assistant's (or there are none)."""
        if self.no_echo_here(suspicion):
            return text
        spoken = self.recent(suspicion)
        if sounds_like_echo(text, spoken):
            if (
                suspicion.clear_from is not None
                and suspicion.clear_frames * FRAME / _RATE >= _CLEAR_SPEECH_S
            ):
                start = max(0, suspicion.clear_from - int(0.1 * _RATE))
                clear = self._transcribe(audio[start:], hint)
                if words(clear) and not sounds_like_echo(clear, spoken):
                    _log.info(
                        "held speech sounded like echo (%r) but went on with none: %r", text, clear
                    )
                    return clear
            # Too little of it after playback paused (a busy machine pauses late), but a
            # canceller that follows the echo path may have taken the echo out: seen on CI,
            # the mix came out as the assistant's words alone, the user's lost.
            clean = self._cancelled_words(audio, suspicion, spoken, hint, loud_only=True)
            if clean is None:
                return text
            _log.info("held speech sounded like echo (%r) but without it: %r", text, clean)
            return clean
        if without_echo(text, spoken) == text.strip():
            return text  # (none of the echo in it: the canceller may clip the first word)
        clean = self._cancelled_words(audio, suspicion, spoken, hint)
        if clean is None:
            return text
        _log.debug("held speech, echo-cancelled: %r (as heard: %r)", clean, text)
        return clean

    def _cancelled_words(
        self,
        audio: np.ndarray,
        suspicion: Suspicion,
        spoken: str,
        hint: str | None,
        *,
        loud_only: bool = False,
    ) -> str | None:
        """The held speech's words as the canceller left it, unless there are none or they
        are the assistant's too. ``loud_only``: only if the canceller followed the echo path
        and took echo out of it, and left speech loud enough to be a voice. (What it leaves of
        an echo path it cannot follow, as one too slow, is the echo misheard anew, and of
        echo it took out near silence, where the recogniser makes words up.)"""
        cancelled = suspicion.cancelled_audio
        if cancelled is None or not cancelled.size:
            return None
        if loud_only and not (
            suspicion.path_followed
            and cancelled_seconds(audio, cancelled) >= _CANCELLED_ECHO_S
            and loud_seconds(cancelled, self._gate_db) >= _CANCELLED_VOICE_S
        ):
            return None
        clean = self._transcribe(cancelled, hint)
        if not words(clean) or sounds_like_echo(clean, spoken):
            return None
        return clean

    # -- the verdict -----------------------------------------------------------------------
    def verdict(self, suspicion: Suspicion, text: str) -> Verdict:
        """Echo of the assistant's recent phrases, or the user (with their words)?"""
        if self.no_echo_here(suspicion):
            return Verdict(False, text, text)
        spoken = self.recent(suspicion)
        heard, text = text, without_echo(text, spoken, last=self._last_before(suspicion))
        echo = (
            # The microphone followed the speaker closely at some delay: its echo alone,
            # however the recogniser misheard it. Only once its voice has been heard coming
            # back: a lone word in silence follows some stretch of speech with pauses by
            # chance (0.81-0.96 for the user's "Stop." with no echo path at all, under load).
            (suspicion.echo_path is True and suspicion.speaker_follow >= FOLLOWS_ECHO)
            or sounds_like_echo(heard, spoken)
            # Over a path the canceller cannot follow, echo misheard ("The ocean is a bass
            # and the steering" for "... vast and teeming") may leave its last word alone.
            or (
                not suspicion.path_followed
                and text != heard
                and is_misheard_reply_word(text, spoken)
            )
        )
        return Verdict(echo, text, heard)


def frame_db(samples: np.ndarray) -> np.ndarray:
    frames = samples[: samples.size // FRAME * FRAME].reshape(-1, FRAME).astype(np.float64)
    return 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def loud_seconds(samples: np.ndarray, floor_db: float) -> float:
    """How long ``samples`` are louder than ``floor_db``, frame by frame (in seconds)."""
    return float(np.count_nonzero(frame_db(samples) > floor_db)) * FRAME / _RATE


def cancelled_seconds(heard: np.ndarray, cancelled: np.ndarray, drop_db: float = 10.0) -> float:
    """How long the canceller took ``drop_db`` or more out of what the microphone heard
    (the echo; where it cannot follow the echo path, as one too slow, it takes out little)."""
    n = min(heard.size, cancelled.size) // FRAME * FRAME
    before = frame_db(heard[:n])
    after = frame_db(cancelled[:n])
    removed = (before > -60.0) & (before - after >= drop_db)
    return float(np.count_nonzero(removed)) * FRAME / _RATE
