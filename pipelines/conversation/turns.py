"""A turn's life (one utterance and the reply to it) and the book that keeps every turn.

``TurnBook`` owns the engine's only turn lock: which turn is being answered, which are held
as possible echo, the bounded history, and the one cancel path used by Stop, barge-in, a
verdict on held speech, resumed speech and a lost device.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from ..audio.speaker import Phrase, Speaker
from ..kernel.context import ContextPlan


class Phase(StrEnum):
    DRAFTING = "drafting"  # the user paused: transcript and reply are prepared, unheard
    HELD = "held"  # it may be the assistant's own voice coming back: words decide
    CONFIRMED = "confirmed"  # the user's turn, being answered
    SPEAKING = "speaking"  # its reply is playing
    DONE = "done"  # answered and heard to the end
    CANCELLED = "cancelled"  # dropped (the user went on, stopped it, or cut it off)
    ECHO = "echo"  # it was the assistant's own voice


_OVER = {Phase.DONE, Phase.CANCELLED, Phase.ECHO}


@dataclass
class Suspicion:
    """What is known of held speech (speech that started while the assistant's voice could
    come back through speakers) for the verdict on it."""

    audio_at: float  # onset on the input timeline
    started: float  # time.monotonic() when the onset was captured
    interrupts: Turn | None  # the reply it cuts off if it is the user
    # Where in the held audio (sample) speech goes on that no echo can reach (playback
    # paused for it longer ago than the echo path's delay), and how many frames of it.
    clear_from: int | None = None
    clear_frames: int = 0
    cancelled_audio: np.ndarray | None = None  # the held speech, echo-cancelled
    # Did the canceller follow the echo path (its delay known and steady) as it was held?
    path_followed: bool = False
    # How closely the held speech follows the speaker at some delay, however slow the path
    # (echo alone follows it closely; see EchoCanceller.follows_at_any_delay).
    speaker_follow: float = 0.0
    # Does the assistant's voice come back into the microphone at all (None: not known yet)?
    echo_path: bool | None = None
    ended: float | None = None  # time.monotonic() when its last sample was captured


@dataclass(eq=False)
class Turn:
    """One user utterance and the reply to it, as it moves through the stages."""

    id: int
    audio: np.ndarray
    speech_end_s: float  # end of speech on the input timeline
    speech_end_at: float  # time.monotonic() estimate of that moment
    phase: Phase = Phase.DRAFTING
    ended: bool = False  # the endpoint was confirmed: the user's speech is over
    cancel: threading.Event = field(default_factory=threading.Event)
    text: str = ""
    reply: list[str] = field(default_factory=list)
    phrases: list[Phrase] = field(default_factory=list)
    generation_done: bool = False
    marks: dict[str, float] = field(default_factory=dict)
    plan: ContextPlan | None = None  # what the model saw for the reply
    draft: object | None = None  # the kernel's Draft, committed when the turn is recorded
    suspicion: Suspicion | None = None  # set while it may be the assistant's own echo

    @property
    def finished(self) -> bool:
        return self.phase in _OVER

    @property
    def answering(self) -> bool:
        """The user's turn whose reply is being prepared or played."""
        return self.ended and self.phase in (Phase.CONFIRMED, Phase.SPEAKING)

    def mark(self, name: str) -> None:
        self.marks.setdefault(name, time.monotonic())

    def release_audio(self, *, phrases: bool = False) -> None:
        """Forget the audio once the turn is over (the history keeps only its words); with
        ``phrases``, the reply's audio too (only once all of it was played: the speaker may
        be reading a phrase of a turn being cancelled)."""
        self.audio = np.zeros(0, np.float32)
        if phrases:
            for phrase in self.phrases:
                phrase.samples = np.zeros(0, np.float32)
        if self.suspicion is not None:
            self.suspicion.cancelled_audio = None


class TurnBook:
    """Every turn of a conversation and the lock they are changed under.

    ``on_cut(turn, heard, reason)`` is called (with the lock held) when a reply the user
    had started to hear is cut off: with the words of it they heard.
    """

    def __init__(self, speaker: Speaker, *, keep: int = 32) -> None:
        self.lock = threading.RLock()
        self.speaker = speaker
        self.active: Turn | None = None  # the turn being answered (drafted or confirmed)
        self.held: list[Turn] = []  # speech that may be echo, waiting for its words
        self.holding = False  # speech that may be echo is being heard right now
        self.history: deque[Turn] = deque(maxlen=keep)  # turns whose speech ended
        self.on_cut: Callable[[Turn, str, str], None] = lambda turn, heard, reason: None
        self._next_id = 1

    # -- creating turns ------------------------------------------------------------------
    def draft(self, audio: np.ndarray, end_s: float, end_at: float) -> Turn:
        """A new turn for speech that paused or ended; it becomes the active turn."""
        with self.lock:
            turn = self._new(audio, end_s, end_at)
            self.active = turn
        return turn

    def hold(self, audio: np.ndarray, end_s: float, end_at: float, suspicion: Suspicion) -> Turn:
        """A new turn for speech that may be echo: held until its words are known."""
        with self.lock:
            turn = self._new(audio, end_s, end_at)
            turn.phase, turn.suspicion = Phase.HELD, suspicion
            self.held.append(turn)
            self.sync_pause()
        return turn

    def _new(self, audio: np.ndarray, end_s: float, end_at: float) -> Turn:
        turn = Turn(self._next_id, audio, end_s, end_at)
        self._next_id += 1
        turn.mark("pause")
        return turn

    # -- moving turns on -----------------------------------------------------------------
    def end(self, turn: Turn) -> bool:
        """The user's speech for ``turn`` is over; False if the turn was dropped meanwhile.
        A held turn stays held until its words are judged."""
        with self.lock:
            if turn.cancel.is_set():
                return False
            turn.mark("endpoint")
            turn.ended = True
            if turn.phase is Phase.DRAFTING:
                turn.phase = Phase.CONFIRMED
            if turn.phase is not Phase.HELD:
                self.history.append(turn)
        return True

    def take_as_user(self, turn: Turn) -> None:
        """Held speech was found to be the user's: it becomes the active turn."""
        with self.lock:
            self._unhold(turn)
            turn.suspicion = None
            turn.phase = Phase.CONFIRMED if turn.ended else Phase.DRAFTING
            self.active = turn
            if turn.ended:
                self.history.append(turn)

    def take_as_echo(self, turn: Turn) -> None:
        """Held speech was the assistant's own voice: nothing is left of it."""
        with self.lock:
            self._unhold(turn)
            turn.suspicion = None
            turn.cancel.set()
            turn.phase = Phase.ECHO
            turn.release_audio()

    def speaking(self, turn: Turn) -> None:
        with self.lock:
            if turn.phase is Phase.CONFIRMED:
                turn.phase = Phase.SPEAKING

    def finish(self, turn: Turn) -> bool:
        """The reply was written and played to the end: True if the turn is over now."""
        with self.lock:
            if turn.finished or not turn.generation_done or not turn.ended:
                return False
            if turn.phase is Phase.HELD or not all(p.done for p in turn.phrases):
                return False
            turn.phase = Phase.DONE
            if self.active is turn:
                self.active = None
            turn.release_audio(phrases=True)
        return True

    # -- the one cancel path -------------------------------------------------------------
    def cancel(self, turn: Turn, *, heard: bool, reason: str = "user") -> None:
        """Drop a turn's queued and playing work. With ``heard``, a reply the user had
        started to hear is recorded as heard (``on_cut``); ``reason`` says who stopped it
        ("user", "barge-in", "device", "shutdown")."""
        with self.lock:
            if turn.finished:
                return
            turn.cancel.set()
            self.speaker.flush(turn.id)
            was_answered = turn.ended and turn.phase is not Phase.HELD
            turn.phase = Phase.CANCELLED
            if self.active is turn:
                self.active = None
            self._unhold(turn)
            if heard and was_answered:
                self.on_cut(turn, heard_text(turn.phrases), reason)
            turn.release_audio()

    def cancel_active(self, reason: str = "user") -> None:
        """Stop the reply being prepared or played (the Stop button, barge-in, a lost
        output device, shutdown)."""
        with self.lock:
            if self.active is not None:
                self.cancel(self.active, heard=True, reason=reason)

    def withdraw_untranscribed(self) -> np.ndarray | None:
        """The active turn's audio if its speech ended but it was not transcribed yet (the
        user speaks again first): the turn is withdrawn, its audio returned to start the
        next utterance, so no words are lost when transcription lags."""
        with self.lock:
            turn = self.active
            if turn is None or turn.finished or not turn.ended or turn.text:
                return None
            audio = turn.audio
            self.cancel(turn, heard=False)
            if turn in self.history:
                self.history.remove(turn)
        return audio

    # -- playback pause for held speech --------------------------------------------------
    def start_holding(self) -> None:
        with self.lock:
            self.holding = True
            self.sync_pause()

    def stop_holding(self) -> None:
        with self.lock:
            self.holding = False
            self.sync_pause()

    def sync_pause(self) -> None:
        """Playback pauses while speech that may be echo is heard or checked, and goes on
        when none is left."""
        with self.lock:
            if self.holding or self.held:
                self.speaker.pause()
            else:
                self.speaker.resume()

    def _unhold(self, turn: Turn) -> None:
        if turn in self.held:
            self.held.remove(turn)
            self.sync_pause()

    # -- questions -----------------------------------------------------------------------
    def replying(self) -> bool:
        """Is a reply to the user being prepared or played?"""
        with self.lock:
            return self.active is not None and self.active.answering

    def busy(self) -> bool:
        """Is any turn under way (heard, held, drafted or answered)?"""
        with self.lock:
            active = self.active is not None and not self.active.finished
            return active or self.holding or bool(self.held)

    def find(self, turn_id: int) -> Turn | None:
        with self.lock:
            return next((t for t in reversed(self.history) if t.id == turn_id), None)


def heard_text(spoken: list[Phrase]) -> str:
    """The words of a reply that reached the user: whole phrases played, plus the share of
    the phrase cut off, in proportion to the samples played."""
    words: list[str] = []
    for phrase in sorted(spoken, key=lambda p: p.index):
        if phrase.played <= 0:
            continue
        phrase_words = phrase.text.split()
        if phrase.done:
            words += phrase_words
        else:
            share = phrase.played / max(1, phrase.samples.size)
            words += phrase_words[: int(len(phrase_words) * share)]
    return " ".join(words)
