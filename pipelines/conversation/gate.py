"""How likely a frame is the user's speech, and why: both voice activity detectors (on the
echo-cancelled and on the raw signal), loudness over the echo, whether the microphone
follows the speaker, the hold-off while the canceller adapts, and the wake word."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ..speech.endpoint import StreamingVad
from .capture import CapturedFrame, rms_db
from .settings import EngineSettings

_RATE = 16_000
_RECENT_FRAMES = 20  # 0.64 s: enough to tell whether the microphone follows the speaker
_SLOW_ECHO = 0.8  # following the speaker this closely at some delay: its echo


@dataclass(frozen=True)
class Gated:
    """A frame with its speech probability."""

    heard: np.ndarray  # the frame the recogniser gets (raw where nothing is cancelled)
    probability: float  # that it is the user's speech, for the endpointer
    raw_probability: float  # of the raw signal alone
    why: str  # what decided the probability, for the debug log
    woke: bool = False  # the wake word was just heard


class Gate:
    """Speech probability per frame. Stateful (the detectors' recurrent state, when the
    assistant last started and stopped talking, the wake word's window)."""

    def __init__(self, settings: EngineSettings, echo) -> None:
        self.settings = settings
        self.echo = echo
        self._vad = StreamingVad()  # on the echo-cancelled signal
        self._raw_vad = StreamingVad()  # on the microphone signal as it came
        self._audible_since: float | None = None
        self._silent_since: float | None = None  # when the assistant last fell silent
        self._awake_until = 0.0
        # The last moments of the microphone (for echo over a path with no steady delay).
        self._recent_raw: deque[np.ndarray] = deque(maxlen=_RECENT_FRAMES)
        self._recent_end_at = 0.0

    def __call__(
        self,
        frame: CapturedFrame,
        *,
        holding: bool,
        in_speech: bool,
        busy: bool = False,
        chime_only: bool = False,
    ) -> Gated:
        """``busy``: a turn is under way, from speech heard to its reply played (for the
        wake word). ``chime_only``: all the speaker played since its last phrase is the
        wake word's chime."""
        s = self.settings
        start = s.endpoint.start_threshold
        # A tone is not the assistant's voice: the question the user begins over it is
        # theirs, heard as it came (the canceller's double-talk suppression, set off by a
        # tone it cannot find in the microphone, turned "capital" into "goal").
        audible = frame.assistant_audible and not chime_only
        self._recent_raw.append(frame.raw)
        self._recent_end_at = frame.captured_at
        # Nothing to cancel (silence, headphones, playback paused for speech that may be
        # the user's): the untouched signal is best, and the canceller's double-talk
        # suppression would clip the user's words.
        untouched = not audible or holding or not frame.echo_path
        heard = frame.raw if untouched else frame.cancelled
        if untouched:  # both signals are the same: one detector pass is enough
            probability = raw_probability = self._raw_vad(frame.raw)
            self._vad.follow(self._raw_vad)
        else:
            probability, raw_probability = self._vad(heard), self._raw_vad(frame.raw)
        why = "vad"
        loud = audible and rms_db(heard) > s.echo_gate_db
        # Speech the canceller left loud (see over_echo below).
        loud_speech = loud and not untouched and probability >= start
        if loud:
            # Loud after cancellation, so not the assistant's echo: the canceller's
            # double-talk suppression blurs speech onsets, the raw signal does not.
            probability, why = max(probability, raw_probability), "loud over the echo"
        if audible:
            # (speech is kept aside until judged: the user's voice is no echo)
            self.echo.learn_echo_path(speech=in_speech)
        if audible and not in_speech and max(probability, raw_probability) >= start:
            # Speech left loud by a canceller that knows the echo path is the user's
            # voice over the echo (their first word can be short, and the microphone's
            # envelope still follows the speaker's through it).
            over_echo = loud_speech and self.echo.echo_lag_reliable()
            follows = self._follows_speaker()
            if follows and not over_echo:
                probability, why = 0.0, f"echo: the microphone {follows}"
            else:
                # Someone else is talking. With a loud echo the canceller's double-talk
                # suppression can mute their words; the raw signal has them.
                probability = max(probability, raw_probability)
                why = "not the speaker's echo"
        if self._holding_off(frame, in_speech, audible):
            probability, why = 0.0, "hold-off: the canceller adapts to the assistant's voice"
        woke = False
        if s.wake_word is not None:
            woke = self._wake_word(frame, busy)
            if not in_speech and frame.end_s > self._awake_until:
                probability, why = 0.0, "asleep: waiting for the wake word"
        return Gated(heard, probability, raw_probability, why, woke)

    def _wake_word(self, frame: CapturedFrame, busy: bool) -> bool:
        """Feed the wake word every frame (its model follows the audio without gaps) of the
        echo-cancelled signal, so the assistant's own voice is not in it; True when it was
        just heard. Speech is taken for a while after it, while a turn is under way (the
        user may talk over the reply) and for a follow-up after the reply."""
        s = self.settings
        if busy:
            self._awake_until = max(self._awake_until, frame.end_s + s.follow_up_s)
        # While the assistant is audible (a reply, which keeps it awake anyway; an
        # announcement; the chime), a word heard can only be its own voice that got past
        # the canceller.
        heard = s.wake_word(frame.cancelled) and not frame.assistant_audible
        if heard:
            self._awake_until = max(self._awake_until, frame.end_s + s.wake_window_s)
        return heard

    def _holding_off(self, frame: CapturedFrame, in_speech: bool, audible: bool) -> bool:
        """The canceller adapts during the first moments of the assistant's voice; a turn
        cannot start then (unless its voice is known not to come back, as with
        headphones). The hold-off starts when the assistant starts talking after a real
        silence, not at every gap between its phrases: the canceller stays adapted through
        short gaps, and a user who talks into one must still be heard at once."""
        s = self.settings
        if not audible:
            if self._silent_since is None:
                self._silent_since = frame.end_s
            if frame.end_s - self._silent_since > s.readapt_after_s:
                self._audible_since = None
        else:
            self._silent_since = None
            if self._audible_since is None:
                self._audible_since = frame.end_s
        return (
            self._audible_since is not None
            and frame.end_s - self._audible_since < s.barge_in_holdoff_s
            and not in_speech
            and frame.echo_path
        )

    def _follows_speaker(self) -> str:
        """Is the microphone following the speaker's own signal (its echo), or something
        else? Where the echo's delay is known and steady, how closely the microphone follows
        the speaker at that delay tells. Otherwise (a slow or changing echo path) a
        microphone no louder than the echo has been is taken for echo too, and a user who
        talks no louder than the echo is heard only once playback pauses. Speech taken for
        the user's over the assistant's voice is held until its words show whose it is (see
        EchoJudge): a wrong "no" costs a moment's pause, a wrong "yes" the user's turn.
        Returns why it is echo ("" if it is not)."""
        if self.echo.echo_likelihood() > self.settings.echo_correlation:
            return f"follows the speaker (steady: {self.echo.echo_lag_reliable()})"
        if self.echo.echo_lag_reliable() or not self.echo.only_echo():
            return ""
        # No steady delay (a slow or changing path, or none at all while the microphone
        # hears other sounds): echo only if the last moments follow the speaker at some
        # delay. (Loudness alone took a quiet "ask not" over a noisy line for echo.)
        if len(self._recent_raw) < self._recent_raw.maxlen:
            return ""
        recent = np.concatenate(self._recent_raw)
        follow = self.echo.follows_at_any_delay(recent, self._recent_end_at - recent.size / _RATE)
        return f"follows the speaker at a slow delay ({follow:.2f})" if follow >= _SLOW_ECHO else ""
