"""Turn-taking as a pure object: frames with their speech probabilities in, actions out.

``Listener.push(frame)`` knows nothing of threads, devices, models or the clock: what it
needs of the world (is the assistant talking, could speech now be its echo, is the
recogniser free) comes in with each frame, and what should happen (duck playback, a turn
starts, draft a reply, hold speech as possible echo, confirm, abandon) goes out as typed
actions for the engine to carry out. Recorded traces replay through it faster than real
time (tests/test_listener.py).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ..speech.endpoint import FRAME, Decision, Endpointer
from .settings import EngineSettings
from .utterance import HELD_PREROLL_S, Utterance

FRAME_S = FRAME / 16_000
_STRONG = 0.7  # partial transcripts only while speech is this likely (see push)


@dataclass(frozen=True)
class Heard:
    """One frame and what the engine knows around it."""

    heard: np.ndarray  # what the recogniser gets
    raw: np.ndarray  # as the microphone gave it
    cancelled: np.ndarray  # as the echo canceller left it
    end_s: float  # its end on the input timeline
    probability: float  # that it is the user's speech (see Gate)
    raw_probability: float
    speaker_busy: bool  # the assistant's voice is playing (or paused mid-reply)
    replying: bool  # a reply is playing or being prepared: speech now cuts it off
    held_pending: bool  # held speech waits for its verdict (playback stays paused)
    echo_possible: bool  # speech starting now may be the assistant's own voice
    echo_free: bool = False  # no echo can reach this frame (asked only while holding)
    ptt: bool | None = None  # push-to-talk button (None: hands-free)
    recogniser_idle: bool = True


@dataclass
class HeldSpeech:
    """Speech being heard that may be the assistant's echo."""

    onset_s: float
    clear_from: int | None = None  # sample of the utterance from which no echo can reach
    clear_frames: int = 0


# --- actions ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Duck:
    """Pause playback: this may be the user starting to talk over the assistant."""


@dataclass(frozen=True)
class Unduck:
    """Resume playback: it was not speech after all."""


@dataclass(frozen=True)
class SpeechStart:
    at: float  # onset on the input timeline
    barge: bool  # over a reply
    interrupt: bool  # cut that reply off now
    held: bool  # it may be echo: hold it until its words decide (playback stays paused)


@dataclass(frozen=True)
class Partial:
    audio: np.ndarray  # the utterance so far, for a partial transcript


@dataclass(frozen=True)
class Draft:
    """The user paused: prepare the transcript and the reply, unheard."""

    audio: np.ndarray
    end_s: float


@dataclass(frozen=True)
class Hold:
    """Speech that may be echo paused (``final``: ended): judge its words."""

    raw: np.ndarray
    cancelled: np.ndarray
    end_s: float
    captured_end_s: float  # end of the last frame captured
    held: HeldSpeech
    final: bool


@dataclass(frozen=True)
class Abandon:
    """The user went on talking: drop what was drafted at the pause."""


@dataclass(frozen=True)
class Confirm:
    """The endpoint: the drafted turn (or, if none, one of ``audio``) is the user's turn."""

    audio: np.ndarray
    end_s: float


@dataclass(frozen=True)
class EndHeld:
    """Held speech that was judged (or is being judged) at its pause ended there."""

    end_s: float


Action = Duck | Unduck | SpeechStart | Partial | Draft | Hold | Abandon | Confirm | EndHeld


class Listener:
    """Endpointing, barge-in ducking, held speech and the utterance's audio, frame by
    frame."""

    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self.endpointer = Endpointer(settings.endpoint)
        self.utterance = Utterance(settings.preroll_s, HELD_PREROLL_S)
        self.held: HeldSpeech | None = None  # the speech going on may be echo
        self._drafting = False  # a draft was made at the last pause
        self._ducked_until: float | None = None
        self._recent: deque[float] = deque(maxlen=4)
        self._partial_at = 0  # utterance frames at the last partial transcript
        self._ptt_was = False

    @property
    def in_speech(self) -> bool:
        return self.endpointer.in_speech

    @property
    def holding(self) -> bool:
        return self.held is not None

    def trust(self) -> None:
        """The held speech was judged the user's: it goes on as theirs."""
        self.held = None

    def complete(self) -> None:
        """The words drafted at this pause make a whole sentence: the turn may end after
        a shorter silence (``EndpointSettings.quick_hangover_ms``)."""
        if self._drafting and self.endpointer.paused:
            self.endpointer.hurry(self.settings.endpoint.quick_hangover_ms)

    def carry(self, audio: np.ndarray | None) -> None:
        """Earlier audio (withdrawn before it was transcribed) starts this utterance."""
        if audio is not None:
            self.utterance.carry(audio)

    def push(self, frame: Heard) -> list[Action]:
        if frame.ptt is not None:
            return self._push_to_talk(frame)
        s = self.settings
        start = s.endpoint.start_threshold
        out: list[Action] = []
        if s.barge_in and frame.speaker_busy and not self.in_speech and not frame.held_pending:
            out += self._duck(frame)
        self._recent.append(frame.probability)
        decisions = self.endpointer.push(frame.probability)
        if self.in_speech or decisions:
            self.utterance.add(frame.heard, frame.raw, frame.cancelled)
            held = self.held
            if held is not None and frame.raw_probability >= start and frame.echo_free:
                if held.clear_from is None:
                    held.clear_from = self.utterance.raw_samples - FRAME
                held.clear_frames += 1
        else:
            self.utterance.before_speech(frame.heard, frame.raw, frame.cancelled)
        for d in decisions:
            if d.decision is Decision.START:
                out.append(self._start(d.at, frame))
            elif d.decision is Decision.PAUSE and s.speculative:
                out.append(self._pause(d.at, frame))
            elif d.decision is Decision.RESUME:
                if self._drafting:
                    self._drafting = False
                    out.append(Abandon())
            elif d.decision is Decision.END:
                out.append(self._end(d.at, frame))
        if self._partial_due(frame):
            self._partial_at = self.utterance.frames
            out.append(Partial(self.utterance.heard()))
        return out

    # -- decisions -----------------------------------------------------------------------
    def _duck(self, frame: Heard) -> list[Action]:
        """Duck at the first credible speech frame over the assistant, so barge-in is heard
        at once; resume if it does not turn out to be speech."""
        if frame.probability >= self.settings.endpoint.start_threshold:
            ducked = self._ducked_until is not None
            self._ducked_until = frame.end_s + self.settings.duck_s
            return [] if ducked else [Duck()]
        if self._ducked_until is not None and frame.end_s > self._ducked_until:
            self._ducked_until = None
            return [Unduck()]
        return []

    def _start(self, at: float, frame: Heard) -> Action:
        s = self.settings
        held = s.barge_in and frame.echo_possible
        action = SpeechStart(
            at, barge=frame.replying, interrupt=frame.replying and s.barge_in, held=held
        )
        if held:
            self.held = HeldSpeech(at)
        self._ducked_until = None
        self.utterance.start()
        self._partial_at = 0
        return action

    def _pause(self, at: float, frame: Heard) -> Action:
        self._drafting = True
        if self.held is None:
            return Draft(self.utterance.heard(), at)
        return self._hold(at, frame, final=False)

    def _end(self, at: float, frame: Heard) -> Action:
        drafted, self._drafting = self._drafting, False
        if self.held is not None and drafted:
            action: Action = EndHeld(at)
        elif self.held is not None:
            action = self._hold(at, frame, final=True)
        else:
            action = Confirm(self.utterance.heard(), at)
        self.held = None
        self.utterance.clear()
        return action

    def _hold(self, at: float, frame: Heard, *, final: bool) -> Hold:
        held = self.held
        assert held is not None
        return Hold(
            self.utterance.raw(),
            self.utterance.cancelled(),
            at,
            frame.end_s,
            HeldSpeech(held.onset_s, held.clear_from, held.clear_frames),
            final,
        )

    def _partial_due(self, frame: Heard) -> bool:
        every = self.settings.partial_every_s
        return (
            self.endpointer.in_speech
            and not self.endpointer.paused
            and self.held is None  # no partial transcript of what may be echo
            # Only while speech is strong: a decode started as the user trails off would
            # delay the final one at the pause.
            and min(self._recent) >= _STRONG
            and every > 0
            and self.utterance.frames - self._partial_at >= every / FRAME_S
            and frame.recogniser_idle
        )

    def _push_to_talk(self, frame: Heard) -> list[Action]:
        """Speech is taken while the button is down and is the turn when it comes up."""
        out: list[Action] = []
        pressed = frame.ptt
        if pressed and not self._ptt_was:
            self.utterance.start_heard()
            out.append(
                SpeechStart(
                    frame.end_s - FRAME_S,
                    barge=frame.replying,
                    interrupt=frame.replying,
                    held=False,
                )
            )
        if pressed:
            self.utterance.add_heard(frame.heard)
        if self._ptt_was and not pressed:
            out.append(Confirm(self.utterance.heard(), frame.end_s))
            self.utterance.clear()
        self._ptt_was = bool(pressed)
        self.utterance.before_speech(frame.heard, frame.raw, frame.cancelled)
        return out
