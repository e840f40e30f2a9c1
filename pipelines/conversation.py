"""The real-time conversation loop: microphone → endpointing → transcription → kernel →
phrases → speech → speaker, as threads joined by queues, publishing typed events.

Turn-taking works speculatively: when the user pauses, the final transcript, the reply and
its first phrase of speech are prepared at once; they play the moment the pause is confirmed
as the end of the turn, and are dropped if the user goes on speaking. When the user speaks
over the reply (barge-in), playback stops, generation and queued synthesis are cancelled,
and only the part of the reply that was actually played goes into the history.
"""

from __future__ import annotations

import itertools
import logging
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .audio.files import SPEECH_RATE
from .audio.microphone import MicBlock
from .audio.speaker import Phrase, PlaybackNote, Speaker
from .events import (
    DeviceRecovered,
    EngineError,
    EngineState,
    EventBus,
    FinalTranscript,
    Interrupted,
    LevelMeter,
    ListeningStarted,
    PartialTranscript,
    PhraseSpoken,
    ReplyFinished,
    ReplyToken,
    SpeechEnded,
    SpeechStarted,
    StateChanged,
)
from .intents.handler import add_everyday_intents
from .kernel.context import ContextPlan
from .kernel.kernel import Kernel
from .kernel.personas import Persona
from .kernel.prompts import VOICE_SYSTEM_PROMPT
from .kernel.store import Store
from .scheduling import BACKGROUND, RECOGNITION, SOON, lower_this_thread
from .speech.agreement import LocalAgreement
from .speech.chunking import PhraseChunker
from .speech.endpoint import FRAME, Decision, Endpointer, EndpointSettings, StreamingVad
from .speech.self_hearing import (
    is_misheard_reply_word,
    sounds_like_echo,
    without_echo,
    words,
)
from .speech.wakeword import WakeWordDetector
from .voice_turn import VoiceModels

_STOP = object()
_HELD_PREROLL_S = 1.0
# Speech this long, heard while no echo could reach the microphone, is someone talking.
_CLEAR_SPEECH_S = 0.25
# Held speech the canceller took this much echo out of is judged as it left it, too (seen
# live: 0.5-1.1 s of the second before the user's onset where it follows a 30 ms echo path,
# 0.0-0.45 s where it cannot follow a 1.8 s one).
_CANCELLED_ECHO_S = 0.5
# ... if it left this much of it loud: the user's voice (seen live: 1.0-1.3 s of "Stop,
# wait a moment please"; the echo it could not take out, up to 0.6 s, which the recogniser
# turned into "We'll see you all in this in the back.").
_CANCELLED_VOICE_S = 0.8
# Held speech whose envelope follows the speaker's this closely at some delay is its echo
# (seen live: 0.99-1.00 for echo alone, 0.48-0.74 for the user over it; on a synthetic room the
# user 10 dB under the echo still gives 0.91).
_FOLLOWS_ECHO = 0.95
_log = logging.getLogger(__name__)


@dataclass
class EngineSettings:
    """How the conversation behaves."""

    hands_free: bool = True
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)
    barge_in: bool = True
    readapt_after_s: float = 2.0  # silence after which the hold-off applies again
    barge_in_holdoff_s: float = 0.5  # no barge-in while the assistant's first half second
    # of speech trains the echo canceller
    duck_s: float = 0.25  # how long playback holds for a possible barge-in
    echo_correlation: float = 0.8  # mic envelope following the speaker's this closely
    # is echo
    echo_gate_db: float = -45.0  # cancelled signal louder than this while the assistant
    # talks is the user, not echo (AEC3 leaves echo tens of dB below this)
    speculative: bool = True  # start work at a pause, before the endpoint is confirmed
    stream_reply: bool = True  # speak phrase by phrase while the reply is being written
    echo_cancellation: bool = True
    # Through speakers, speech over the assistant's voice pauses it and is taken as the
    # user only once its words are not the assistant's own (the acoustic checks can be
    # fooled by an echo path that changes under load).
    check_echo_words: bool = True
    echo_words_after_s: float = 3.0  # how long after playback its echo is still expected
    partial_every_s: float = 0.8
    preroll_s: float = 0.3
    system_prompt: str = VOICE_SYSTEM_PROMPT  # used when no kernel is given
    store_path: Path | None = None  # conversation database when no kernel is given
    # (None: a temporary one, removed at stop)
    level_every_s: float = 0.1
    wake_word: WakeWordDetector | None = None  # if set, a turn starts only after it is heard
    wake_window_s: float = 8.0  # how long after the wake word speech is taken


@dataclass
class Suspicion:
    """Speech that started while the assistant's voice was coming back through speakers:
    held, with playback paused, until its words show whether it is the user or echo."""

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


@dataclass
class Turn:
    """One user utterance and the reply to it, as it moves through the stages."""

    id: int
    audio: np.ndarray
    speech_end_s: float  # end of speech on the input timeline
    speech_end_at: float  # time.monotonic() estimate of that moment
    cancel: threading.Event = field(default_factory=threading.Event)
    confirmed: threading.Event = field(default_factory=threading.Event)
    text: str = ""
    reply: list[str] = field(default_factory=list)
    phrases: list[Phrase] = field(default_factory=list)
    generation_done: bool = False
    finished: bool = False
    marks: dict[str, float] = field(default_factory=dict)
    plan: ContextPlan | None = None  # what the model saw for the reply
    suspicion: Suspicion | None = None  # set while it may be the assistant's own echo

    def mark(self, name: str) -> None:
        self.marks.setdefault(name, time.monotonic())


@dataclass
class HistoryEntry:
    """A message of the conversation as the user experienced it."""

    role: str
    content: str
    interrupted: bool = False


class Conversation:
    """A hands-free (or push-to-talk) spoken conversation on given audio devices.

    ``microphone`` is a Microphone or FileMicrophone, ``speaker`` a Speaker or
    RecordingSpeaker built with ``source_rate=models.tts.sample_rate``.
    """

    def __init__(
        self,
        models: VoiceModels,
        microphone,
        speaker: Speaker,
        *,
        settings: EngineSettings | None = None,
        bus: EventBus | None = None,
        kernel: Kernel | None = None,
        conversation_id: int | None = None,
    ):
        self.models = models
        self.mic = microphone
        self.speaker = speaker
        self.settings = settings or EngineSettings()
        self.bus = bus or EventBus()
        self._own_store: Path | None = None
        if kernel is None:
            kernel, self._own_store = voice_kernel(models, self.settings)
        self.kernel = kernel
        self.conversation_id = conversation_id  # created with the first finished turn
        self.turns: list[Turn] = []
        self._stt_jobs: queue.Queue = queue.Queue()
        self._think_jobs: queue.Queue = queue.Queue()
        self._speak_jobs: queue.Queue = queue.Queue()
        self._running = threading.Event()
        self._threads: list[threading.Thread] = []
        self._turn_lock = threading.RLock()
        self._active: Turn | None = None  # the turn being answered (confirmed or not)
        # Speech that may be the assistant's echo: being heard, and waiting for its words.
        # Playback stays paused meanwhile (see _sync_pause).
        self._holding = False
        self._held: list[Turn] = []
        self._spoken: deque[tuple[float, str]] = deque(maxlen=64)  # (when, phrase) played
        self._last_playback = float("-inf")
        self._next_id = 1
        self._announcement_ids = itertools.count(-1, -1)  # apart from the turns' ids
        self._state = EngineState.IDLE
        self._ptt_pressed = False
        # Words the user is likely to say now (e.g. page edits while a page is open),
        # given to the recogniser with each utterance.
        self.listening_hint: Callable[[], str | None] | None = None
        self._echo = None
        if self.settings.echo_cancellation:
            from .audio.echo import EchoCanceller

            self._echo = EchoCanceller()
            self.speaker.on_reference = self._echo.add_reference
        if hasattr(self.mic, "on_problem"):
            self.mic.on_problem = self._device_problem
            self.mic.on_recovered = lambda dev: self.bus.publish(
                DeviceRecovered(kind="input", device=dev)
            )
        self.speaker.on_problem = self._device_problem
        self.speaker.on_recovered = lambda dev: self.bus.publish(
            DeviceRecovered(kind="output", device=dev)
        )

    # public API ---------------------------------------------------------------------------
    def start(self) -> None:
        """Open the devices (output first: the first input block can be slow) and listen."""
        # The listening thread gives up the interpreter lock at every native call (the VAD,
        # the canceller) and must get it back at once: other threads hold it for at most
        # 1 ms at a time instead of Python's default 5 ms.
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        self.kernel.warm_up(self.conversation_id)
        self.speaker.start()
        self.mic.start()
        self._running.set()
        for name, target in (
            ("listen", self._listen_loop),
            ("transcribe", self._stt_loop),
            ("think", self._think_loop),
            ("speak", self._speak_loop),
            ("playback-notes", self._notes_loop),
        ):
            thread = threading.Thread(target=target, name=f"vistavox-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        mode = "hands-free" if self.settings.hands_free else "push-to-talk"
        self.bus.publish(
            ListeningStarted(
                mode=mode, input_device=self.mic.device, output_device=self.speaker.device
            )
        )
        self._set_state(EngineState.LISTENING)

    def stop(self) -> None:
        """Ordered shutdown: input, processing, output. Joins every thread."""
        if not self._running.is_set():
            return
        self._running.clear()
        self.interrupt(reason="shutdown")
        for q in (self._stt_jobs, self._think_jobs, self._speak_jobs):
            q.put(_STOP)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        self.mic.stop()
        self.speaker.stop()
        if self._own_store is not None:
            self.kernel.store.close()
            shutil.rmtree(self._own_store, ignore_errors=True)
        self._set_state(EngineState.STOPPED)

    def push_to_talk(self, pressed: bool) -> None:
        """Push-to-talk mode: speech is taken while pressed and answered on release."""
        self._ptt_pressed = pressed

    def interrupt(self, reason: str = "user") -> None:
        """Stop speaking and thinking now (the stop button, or barge-in)."""
        with self._turn_lock:
            turn = self._active
            if turn is None or turn.finished:
                return
            self._cancel_turn(turn, heard=True)

    def announce(self, text: str) -> None:
        """Say ``text`` outside any turn (a timer that ended), after what is playing; it is
        the assistant's own voice to the echo judge, as replies are."""
        audio = self.models.tts.speak(text)
        if audio.size == 0:
            return
        with self._turn_lock:
            turn_id = next(self._announcement_ids)
            self.speaker.enqueue(Phrase(turn_id, 0, text, self.speaker.to_device_rate(audio)))
            self.speaker.release(turn_id)
            self._spoken.append((time.monotonic(), text))

    @property
    def history(self) -> list[HistoryEntry]:
        """The stored conversation as the user experienced it (replies as heard)."""
        if self.conversation_id is None:
            return []
        return [
            HistoryEntry(m.role, m.content, m.interrupted)
            for m in self.kernel.store.messages(self.conversation_id)
        ]

    def messages(self) -> list[dict]:
        """The chat as the language model will see it before the next turn (the kernel's
        context plan: pinned system prompt, summary, recent turns)."""
        return self.kernel.plan(self.conversation_id, "").messages[:-1]

    @property
    def state(self) -> EngineState:
        return self._state

    def is_idle(self) -> bool:
        """True when nobody is speaking and no reply is being prepared or played."""
        with self._turn_lock:
            active = self._active is not None and not self._active.finished
            active = active or self._holding or bool(self._held)
        return (
            not active
            and not self.speaker.busy
            and self._state in (EngineState.LISTENING, EngineState.INTERRUPTED)
        )

    # helpers -----------------------------------------------------------------------------
    def _set_state(self, state: EngineState) -> None:
        if state != self._state:
            self._state = state
            self.bus.publish(StateChanged(state=state))

    def _device_problem(self, code: str, message: str) -> None:
        self.bus.publish(EngineError(code=code, message=message, recoverable=True))
        if code == "output-device-lost":
            self.interrupt(reason="device")

    def _cancel_turn(self, turn: Turn, *, heard: bool) -> None:
        """Drop a turn's queued and playing work. With ``heard``, record what was played."""
        turn.cancel.set()
        self.speaker.flush(turn.id)
        turn.finished = True
        if self._active is turn:
            self._active = None
        if turn in self._held:
            self._held.remove(turn)
            self._sync_pause()
        if not heard or not turn.confirmed.is_set():
            return
        heard_text = _heard_text(turn.phrases)
        self._record(turn, heard_text, interrupted=True)
        self.bus.publish(Interrupted(turn_id=turn.id, heard=heard_text))
        self.bus.publish(ReplyFinished(turn_id=turn.id, text=heard_text, interrupted=True))
        self._set_state(EngineState.INTERRUPTED)

    # stage 1: listening (capture → echo cancellation → VAD → endpointing) -----------------
    def _listen_loop(self) -> None:
        s = self.settings
        vad = StreamingVad()  # on the echo-cancelled signal
        raw_vad = StreamingVad()  # on the microphone signal as it came
        raw_pending = np.zeros(0, dtype=np.float32)
        audible_since: float | None = None
        silent_since: float | None = None  # when the assistant last fell silent
        ducked_until: float | None = None
        awake_until = 0.0
        pending_raw = np.zeros(0, dtype=np.float32)
        endpointer = Endpointer(s.endpoint)
        preroll: deque[np.ndarray] = deque(maxlen=max(1, int(s.preroll_s * SPEECH_RATE / FRAME)))
        utterance: list[np.ndarray] = []
        # The same, as the microphone heard it: echo that got past the canceller is
        # clearest there, so speech held as possible echo is judged on it.
        # (longer: the echo checks may have taken the user's first words for echo).
        raw_preroll: deque[np.ndarray] = deque(maxlen=int(_HELD_PREROLL_S * SPEECH_RATE / FRAME))
        raw_utterance: list[np.ndarray] = []
        # ... and as the canceller left it: the user's words over the echo are clearest there.
        cancelled_preroll: deque[np.ndarray] = deque(maxlen=raw_preroll.maxlen)
        cancelled_utterance: list[np.ndarray] = []
        pending = np.zeros(0, dtype=np.float32)
        last_level = last_behind_note = 0.0
        last_partial_len = 0
        speculative: Turn | None = None
        suspicion: Suspicion | None = None  # the speech going on may be echo
        recent: deque[float] = deque(maxlen=4)
        ptt_was = False
        start = s.endpoint.start_threshold
        while self._running.is_set():
            block = self.mic.read(timeout=0.1)
            self.speaker.watchdog()
            if block is None:
                continue
            raw = block.samples
            cleaned = raw
            if self._echo is not None:
                cleaned = self._echo.process(raw, block.captured)
                # The canceller's output lags by < 10 ms; keep both streams the same length.
                raw_pending = np.concatenate([raw_pending, raw])
                raw, raw_pending = raw_pending[: cleaned.size], raw_pending[cleaned.size :]
            now = time.monotonic()
            if now - last_level >= s.level_every_s and cleaned.size:
                last_level = now
                self.bus.publish(_level(cleaned))
            pending = np.concatenate([pending, cleaned])
            pending_raw = np.concatenate([pending_raw, raw])
            assistant_audible = self._echo is not None and self._echo.reference_level_db() > -50.0
            behind = now - block.captured - block.samples.size / SPEECH_RATE
            if behind > 1.0 and now - last_behind_note > 10.0:
                last_behind_note = now
                _log.warning(
                    "listening runs %.1f s behind the microphone: the machine is overloaded",
                    behind,
                )
            echo_path = self._echo is None or self._echo.echo_path() is not False
            # Timeline position of the first sample in ``pending``.
            pending_end_s = block.start_s + block.samples.size / SPEECH_RATE
            while pending.size >= FRAME:
                frame, pending = pending[:FRAME], pending[FRAME:]
                raw_frame, pending_raw = pending_raw[:FRAME], pending_raw[FRAME:]
                cancelled_frame = frame
                untouched = not assistant_audible or suspicion is not None or not echo_path
                if untouched:
                    # Nothing to cancel (silence, headphones, playback paused for speech
                    # that may be the user's): the untouched signal is best, and the
                    # canceller's double-talk suppression would clip the user's words.
                    frame = raw_frame
                frame_end_s = pending_end_s - pending.size / SPEECH_RATE
                if not s.hands_free:
                    ptt = self._ptt_pressed
                    if ptt and not ptt_was:
                        utterance = list(preroll)
                        barge = self.speaker.busy or self._thinking()
                        self._on_speech_start(
                            frame_end_s - FRAME / SPEECH_RATE, barge=barge, interrupt=barge
                        )
                    if ptt:
                        utterance.append(frame)
                    if ptt_was and not ptt:
                        speculative = self._new_turn(
                            utterance, frame_end_s, _to_monotonic(frame_end_s, block)
                        )
                        self._confirm(speculative, frame_end_s)
                        speculative, utterance = None, []
                    ptt_was = ptt
                    preroll.append(frame)
                    continue
                if untouched:  # both signals are the same: one VAD pass is enough
                    probability = raw_probability = raw_vad(raw_frame)
                    vad.follow(raw_vad)
                else:
                    probability, raw_probability = vad(frame), raw_vad(raw_frame)
                loud = assistant_audible and _rms_db(frame) > s.echo_gate_db
                # Speech the canceller left loud (see over_echo below).
                loud_speech = loud and not untouched and probability >= start
                if loud:
                    # Loud after cancellation, so not the assistant's echo: the canceller's
                    # double-talk suppression blurs speech onsets, the raw signal does not.
                    probability = max(probability, raw_probability)
                if assistant_audible and not endpointer.in_speech:
                    self._echo.learn_echo_path()
                    if max(probability, raw_probability) >= start:
                        # Speech left loud by a canceller that knows the echo path is the
                        # user's voice over the echo (their first word can be short, and the
                        # microphone's envelope still follows the speaker's through it).
                        over_echo = loud_speech and self._echo.echo_lag_reliable()
                        if self._follows_speaker() and not over_echo:
                            # Echo that the canceller let through, not the user.
                            probability = 0.0
                        else:
                            # Someone else is talking. With a loud echo the canceller's
                            # double-talk suppression can mute their words; the raw
                            # signal has them.
                            probability = max(probability, raw_probability)
                # The hold-off starts when the assistant starts talking after a real silence,
                # not at every gap between its phrases: the canceller stays adapted through
                # short gaps, and a user who talks into one must still be heard at once.
                if not assistant_audible:
                    if silent_since is None:
                        silent_since = frame_end_s
                    if frame_end_s - silent_since > s.readapt_after_s:
                        audible_since = None
                else:
                    silent_since = None
                    if audible_since is None:
                        audible_since = frame_end_s
                if (
                    audible_since is not None
                    and frame_end_s - audible_since < s.barge_in_holdoff_s
                    and not endpointer.in_speech
                    and echo_path
                ):
                    # The canceller adapts during the first moments of the assistant's
                    # voice; a turn cannot start then (unless its voice is known not to
                    # come back, as with headphones).
                    probability = 0.0
                if s.wake_word is not None and not endpointer.in_speech:
                    if s.wake_word(raw_frame):
                        awake_until = frame_end_s + s.wake_window_s
                    if frame_end_s > awake_until:
                        probability = 0.0  # asleep: wait for the wake word
                # Duck at the first credible speech frame over the assistant, so barge-in
                # is heard at once; resume if it does not turn out to be speech.
                if (
                    s.barge_in
                    and self.speaker.busy
                    and not endpointer.in_speech
                    and not self._held  # paused until held speech is settled
                ):
                    if probability >= s.endpoint.start_threshold:
                        if ducked_until is None:
                            self.speaker.pause()
                            _log.debug(
                                "ducked %.2f s after the frame was captured",
                                time.monotonic() - _to_monotonic(frame_end_s, block),
                            )
                        ducked_until = frame_end_s + s.duck_s
                    elif ducked_until is not None and frame_end_s > ducked_until:
                        self.speaker.resume()
                        ducked_until = None
                recent.append(probability)
                decisions = endpointer.push(probability)
                if endpointer.in_speech or decisions:
                    utterance.append(frame)
                    raw_utterance.append(raw_frame)
                    cancelled_utterance.append(cancelled_frame)
                    if (
                        suspicion is not None
                        and raw_probability >= start
                        and self._echo.echo_free_at(
                            _to_monotonic(frame_end_s - FRAME / SPEECH_RATE, block)
                        )
                    ):
                        if suspicion.clear_from is None:
                            suspicion.clear_from = sum(f.size for f in raw_utterance) - FRAME
                        suspicion.clear_frames += 1
                else:
                    preroll.append(frame)
                    raw_preroll.append(raw_frame)
                    cancelled_preroll.append(cancelled_frame)
                for d in decisions:
                    _log.debug(
                        "%s at %.3f: p=%.2f raw_p=%.2f level=%.1f dB audible=%s",
                        d.decision,
                        d.at,
                        probability,
                        raw_probability,
                        _rms_db(frame),
                        assistant_audible,
                    )
                    if d.decision is Decision.START:
                        carried = self._take_untranscribed() if s.barge_in else []
                        barge = self.speaker.busy or self._thinking()
                        onset_at = _to_monotonic(d.at, block)
                        _log.debug(
                            "speech starts: barge=%s echo_path=%s speaker_busy=%s, "
                            "decided %.2f s after its onset",
                            barge,
                            self._echo.echo_path() if self._echo is not None else None,
                            self.speaker.busy,
                            time.monotonic() - onset_at,
                        )
                        if s.barge_in and self._may_be_echo(onset_at):
                            # Playback stays paused until the words decide (see _settle).
                            with self._turn_lock:
                                self._holding = True
                                self._sync_pause()
                            suspicion = Suspicion(d.at, onset_at, self._active if barge else None)
                        else:
                            self._on_speech_start(d.at, barge=barge, interrupt=barge and s.barge_in)
                            if ducked_until is not None:
                                self.speaker.resume()
                        ducked_until = None
                        raw_utterance = carried + list(raw_preroll) + raw_utterance
                        cancelled_utterance = [
                            *carried,
                            *cancelled_preroll,
                            *cancelled_utterance,
                        ]
                        utterance = carried + list(preroll) + utterance
                        preroll.clear()
                        raw_preroll.clear()
                        cancelled_preroll.clear()
                        last_partial_len = 0
                    elif d.decision is Decision.PAUSE and s.speculative:
                        pause_at = _to_monotonic(d.at, block)
                        if suspicion is None:
                            speculative = self._new_turn(utterance, d.at, pause_at)
                        else:  # its words are judged now, its reply drafted if the user's
                            speculative = self._hold(
                                raw_utterance,
                                cancelled_utterance,
                                d.at,
                                pause_at,
                                suspicion,
                                captured_until=_to_monotonic(frame_end_s, block),
                                speculative=True,
                            )
                    elif d.decision is Decision.RESUME:
                        if speculative is not None:
                            with self._turn_lock:
                                # Held speech already found to be the user's goes on as
                                # theirs; echo, or speech not judged yet, is held again.
                                if speculative.suspicion is None and not speculative.finished:
                                    suspicion, self._holding = None, False
                                self._cancel_turn(speculative, heard=False)
                                self._sync_pause()
                            speculative = None
                        self._set_state(EngineState.HEARING)
                    elif d.decision is Decision.END:
                        end_at = _to_monotonic(d.at, block)
                        if suspicion is not None and speculative is not None:
                            self._end_held(speculative, d.at)
                            speculative, suspicion, utterance = None, None, []
                            raw_utterance, cancelled_utterance = [], []
                            preroll.clear()
                            raw_preroll.clear()
                            cancelled_preroll.clear()
                            continue
                        if suspicion is not None:
                            self._hold(
                                raw_utterance,
                                cancelled_utterance,
                                d.at,
                                end_at,
                                suspicion,
                                captured_until=_to_monotonic(frame_end_s, block),
                            )
                            suspicion, utterance = None, []
                            raw_utterance, cancelled_utterance = [], []
                            preroll.clear()
                            raw_preroll.clear()
                            cancelled_preroll.clear()
                            continue
                        if speculative is None:
                            speculative = self._new_turn(utterance, d.at, end_at)
                        self._confirm(speculative, d.at)
                        speculative, utterance = None, []
                        raw_utterance, cancelled_utterance = [], []
                        preroll.clear()
                        raw_preroll.clear()
                        cancelled_preroll.clear()
                if (
                    endpointer.in_speech
                    and not endpointer.paused
                    and suspicion is None  # no partial transcript of what may be echo
                    # Only while speech is strong: a decode started as the user trails off
                    # would delay the final one at the pause.
                    and min(recent) >= 0.7
                    and s.partial_every_s > 0
                    and len(utterance) - last_partial_len >= s.partial_every_s * SPEECH_RATE / FRAME
                    and self._stt_jobs.empty()
                ):
                    last_partial_len = len(utterance)
                    self._stt_jobs.put(("partial", np.concatenate(utterance)))

    def _take_untranscribed(self) -> list[np.ndarray]:
        """The user speaks again before their last utterance was even transcribed: that
        utterance is withdrawn (nothing of it was shown or answered yet) and its audio,
        returned, starts the new one, so no words are lost when transcription lags."""
        with self._turn_lock:
            turn = self._active
            if turn is None or turn.finished or not turn.confirmed.is_set() or turn.text:
                return []
            self._cancel_turn(turn, heard=False)
            if turn in self.turns:
                self.turns.remove(turn)
        gap = np.zeros(int(0.3 * SPEECH_RATE), np.float32)
        return [turn.audio, gap] if turn.audio.size else []

    def _may_be_echo(self, onset_at: float) -> bool:
        """Could speech that started at ``onset_at`` (time.monotonic()) be the assistant's
        own voice coming back (it talks, or just did, through speakers)?"""
        if self._echo is None or not self.settings.check_echo_words:
            return False
        # Whether the voice comes back at all (speakers or headphones) is not asked: an
        # echo path slower than the canceller's checks looks like none for seconds. With
        # headphones the user's words settle it as quickly, and playback pauses at once.
        recently = onset_at - self._last_playback < self.settings.echo_words_after_s
        return self.speaker.busy or recently

    def _follows_speaker(self) -> bool:
        """Is the microphone following the speaker's own signal (its echo), or something
        else? Where the echo's delay is known and steady, how closely the microphone follows
        the speaker at that delay tells. Otherwise (a slow or changing echo path) a
        microphone no louder than the echo has been is taken for echo too, and a user who
        talks no louder than the echo is heard only once playback pauses. Speech taken for
        the user's over the assistant's voice is held until its words show whose it is (see
        ``_settle``): a wrong "no" costs a moment's pause, a wrong "yes" the user's turn."""
        if self._echo.echo_likelihood() > self.settings.echo_correlation:
            return True
        return not self._echo.echo_lag_reliable() and self._echo.only_echo()

    def _hold(
        self,
        utterance: list[np.ndarray],
        cancelled: list[np.ndarray],
        end_s: float,
        end_at: float,
        suspicion: Suspicion,
        *,
        captured_until: float,
        speculative: bool = False,
    ) -> Turn:
        """Queue speech that may be echo (as the microphone heard it, and as the canceller
        left it, its last sample captured at ``captured_until``) for transcription;
        ``_settle`` decides. ``speculative``: the speech paused, and may go on (see
        ``_end_held``); playback stays paused meanwhile."""
        audio = np.concatenate(utterance)
        # (outside the turn lock: the other stages need not wait for it)
        follow = self._echo.follows_at_any_delay(audio, captured_until - audio.size / SPEECH_RATE)
        with self._turn_lock:
            turn = Turn(self._next_id, audio, end_s, end_at)
            turn.suspicion = suspicion
            suspicion.cancelled_audio = np.concatenate(cancelled)
            suspicion.path_followed = self._echo.echo_lag_reliable()
            suspicion.speaker_follow = follow
            _log.debug(
                "held %.2f s of speech (onset %.3f, end %.3f; %.2f s of it with no echo "
                "around, from %s; echo delay %s frames, steady: %s; echo taken out of %.2f s, "
                "%.2f s loud after it; follows the speaker at some delay: %.2f) until its "
                "words are known",
                turn.audio.size / SPEECH_RATE,
                suspicion.audio_at,
                end_s,
                suspicion.clear_frames * FRAME / SPEECH_RATE,
                None if suspicion.clear_from is None else suspicion.clear_from / SPEECH_RATE,
                self._echo.echo_lag,
                self._echo.echo_lag_reliable(),
                _cancelled_seconds(turn.audio, suspicion.cancelled_audio),
                _loud_seconds(suspicion.cancelled_audio, self.settings.echo_gate_db),
                suspicion.speaker_follow,
            )
            self._next_id += 1
            turn.mark("pause")
            if not speculative:
                turn.mark("endpoint")
                turn.confirmed.set()
                self._holding = False
            self._held.append(turn)
        self._stt_jobs.put(("final", turn))
        return turn

    def _end_held(self, turn: Turn, end_s: float) -> None:
        """Speech held at its pause (``turn``) has ended there: if its words showed it to be
        the user's, it is their turn, whose reply may be drafted already; if they are not
        known yet, it waits for them as any held speech; if it was echo, nothing is left."""
        with self._turn_lock:
            self._holding = False
            settled_user = turn.suspicion is None and not turn.finished
            if not settled_user and not turn.finished:
                turn.mark("endpoint")
                turn.confirmed.set()
            self._sync_pause()
        if settled_user:
            self._confirm(turn, end_s)

    def _settle(self, turn: Turn, text: str) -> str | None:
        """A held turn's words are known: echo of the assistant's recent phrases is dropped
        and playback resumes (returns None); anything else is the user, who cuts the reply
        off (returns their words). Call with the turn lock held."""
        suspicion = turn.suspicion
        turn.suspicion = None
        if turn in self._held:
            self._held.remove(turn)
        spoken = self._recent_spoken(suspicion)
        # The held speech starts a second early: the assistant's last words may lead it.
        before = suspicion.started - _HELD_PREROLL_S
        since = max((at for at, _ in self._spoken if at <= before), default=float("-inf"))
        last = " ".join(t for at, t in self._spoken if at >= since)
        heard, text = text, without_echo(text, spoken, last=last)
        if (
            # The microphone followed the speaker closely at some delay: its echo alone
            # (seen live: 0.99-1.00 for echo over a 1.8 s path, 0.48-0.74 for the user talking
            # over it), however the recogniser misheard it.
            suspicion.speaker_follow >= _FOLLOWS_ECHO
            or sounds_like_echo(heard, spoken)
            # Over a path the canceller cannot follow, echo misheard ("The ocean is a bass
            # and the steering" for "... vast and teeming") may leave its last word alone.
            or (
                not suspicion.path_followed
                and text != heard
                and is_misheard_reply_word(text, spoken)
            )
        ):
            _log.info("ignored the assistant's own voice coming back: %r", heard)
            turn.cancel.set()
            turn.finished = True
            self._sync_pause()
            return None
        # The user started talking, and cut off the reply (or a newer turn), in that order.
        cut = [t for t in (suspicion.interrupts, self._active) if t is not None and not t.finished]
        if len(cut) == 2 and cut[0] is cut[1]:
            cut.pop()
        self._on_speech_start(suspicion.audio_at, barge=bool(cut))
        for old in cut:
            self._cancel_turn(old, heard=True)
        self._sync_pause()
        self._active = turn
        _log.info("held speech is the user's: %r (heard %r)", text, heard)
        if turn.confirmed.is_set():  # (else it is confirmed when the speech ends)
            self.turns.append(turn)
            self.bus.publish(
                SpeechEnded(audio_at=turn.speech_end_s, duration_s=turn.audio.size / SPEECH_RATE)
            )
            self._set_state(EngineState.THINKING)
        return text

    def _recent_spoken(self, suspicion: Suspicion) -> str:
        """What the assistant said that held speech may be the echo of (two minutes back:
        a listener that fell behind hears old phrases late). Call with the turn lock held."""
        return " ".join(t for at, t in self._spoken if at >= suspicion.started - 120.0)

    def _held_words(self, turn: Turn, text: str, hint: str | None) -> str:
        """The words to judge held speech by, given ``text``, its transcript as the
        microphone heard it (where the assistant's echo is clearest, so echo is told by it).

        Over the assistant's louder voice the recogniser may write that voice alone and
        lose the user's words. When speech went on after playback paused, where no echo can
        reach the microphone, that stretch transcribed on its own gives them. And speech
        that is the user's is transcribed again as the canceller left it, without the echo
        under their first words, if some of the assistant's words lead ``text``: those
        words replace ``text`` unless they, too, are the assistant's (or there are none)."""
        suspicion = turn.suspicion
        if suspicion is None:
            return text
        with self._turn_lock:
            spoken = self._recent_spoken(suspicion)
        if sounds_like_echo(text, spoken):
            if (
                suspicion.clear_from is not None
                and suspicion.clear_frames * FRAME / SPEECH_RATE >= _CLEAR_SPEECH_S
            ):
                start = max(0, suspicion.clear_from - int(0.1 * SPEECH_RATE))
                clear = self.models.stt.transcribe(turn.audio[start:], hint=hint).text
                if words(clear) and not sounds_like_echo(clear, spoken):
                    _log.info(
                        "held speech sounded like echo (%r) but went on with none: %r", text, clear
                    )
                    return clear
            # Too little of it after playback paused (a busy machine pauses late), but a
            # canceller that follows the echo path may have taken the echo out: seen on CI,
            # the mix came out as the assistant's words alone, the user's lost.
            clean = self._cancelled_words(turn.audio, suspicion, spoken, hint, loud_only=True)
            if clean is None:
                return text
            _log.info("held speech sounded like echo (%r) but without it: %r", text, clean)
            return clean
        if without_echo(text, spoken) == text.strip():
            return text  # (none of the echo in it: the canceller may clip the first word)
        clean = self._cancelled_words(turn.audio, suspicion, spoken, hint)
        if clean is None:
            return text
        _log.debug("held speech, echo-cancelled: %r (as heard: %r)", clean, text)
        return clean

    def _cancelled_words(
        self,
        turn_audio: np.ndarray,
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
            and _cancelled_seconds(turn_audio, cancelled) >= _CANCELLED_ECHO_S
            and _loud_seconds(cancelled, self.settings.echo_gate_db) >= _CANCELLED_VOICE_S
        ):
            return None
        clean = self.models.stt.transcribe(cancelled, hint=hint).text
        if not words(clean) or sounds_like_echo(clean, spoken):
            return None
        return clean

    def _sync_pause(self) -> None:
        """Playback pauses while speech that may be echo is heard or checked, and goes on
        when none is left. Call with the turn lock held."""
        if self._holding or self._held:
            self.speaker.pause()
        else:
            self.speaker.resume()

    def _thinking(self) -> bool:
        turn = self._active
        return turn is not None and turn.confirmed.is_set() and not turn.finished

    def _on_speech_start(self, audio_at: float, *, barge: bool, interrupt: bool = False) -> None:
        """The user started talking: announced first, then (``interrupt``) the reply they
        cut off is stopped."""
        self.bus.publish(SpeechStarted(audio_at=audio_at, barge_in=barge))
        if interrupt:
            self.interrupt(reason="barge-in")
        self._set_state(EngineState.HEARING)

    def _new_turn(self, utterance: list[np.ndarray], end_s: float, end_at: float) -> Turn:
        with self._turn_lock:
            turn = Turn(
                self._next_id,
                np.concatenate(utterance) if utterance else np.zeros(0, np.float32),
                end_s,
                end_at,
            )
            self._next_id += 1
            turn.mark("pause")
            self._active = turn
        self._stt_jobs.put(("final", turn))
        return turn

    def _confirm(self, turn: Turn, end_s: float) -> None:
        turn.mark("endpoint")
        duration = turn.audio.size / SPEECH_RATE
        self.bus.publish(SpeechEnded(audio_at=end_s, duration_s=duration))
        with self._turn_lock:
            if turn.cancel.is_set():
                return
            turn.confirmed.set()
            self.turns.append(turn)
            if turn.text:
                self._publish_confirmed(turn)
        self._set_state(EngineState.THINKING)

    def _publish_confirmed(self, turn: Turn) -> None:
        """Once a turn is both confirmed and transcribed: announce it and let it play."""
        self.bus.publish(FinalTranscript(turn_id=turn.id, text=turn.text))
        for piece in list(turn.reply):
            self.bus.publish(ReplyToken(turn_id=turn.id, text=piece))
        self.speaker.release(turn.id)

    # stage 2: transcription ------------------------------------------------------------
    def _stt_loop(self) -> None:
        lower_this_thread(RECOGNITION)  # listening comes first (see scheduling.py)
        agreement = LocalAgreement()
        while True:
            job = self._stt_jobs.get()
            if job is _STOP:
                return
            kind, payload = job
            try:
                if kind == "partial":
                    text = self.models.stt.transcribe(payload, hint=self._hint()).text
                    stable, tentative = agreement.update(text)
                    self.bus.publish(PartialTranscript(stable=stable, tentative=tentative))
                    continue
                turn: Turn = payload
                agreement.reset()
                if turn.cancel.is_set():
                    continue
                turn.mark("stt_start")
                hint = self._hint()
                text = (
                    self.models.stt.transcribe(turn.audio, hint=hint).text
                    if turn.audio.size
                    else ""
                )
                text = self._held_words(turn, text, hint)
                turn.mark("stt_done")
            except Exception as exc:  # noqa: BLE001 - report and keep listening
                self.bus.publish(EngineError(code="stt-failed", message=str(exc)))
                if kind == "final" and payload.suspicion is not None:
                    with self._turn_lock:  # never leave playback paused
                        self._cancel_turn(payload, heard=False)
                continue
            with self._turn_lock:
                if turn.cancel.is_set():
                    continue
                if turn.suspicion is not None:
                    text = self._settle(turn, text)
                    if text is None:
                        continue
                if not text:
                    # Silence or noise that slipped through: no turn.
                    turn.cancel.set()
                    turn.finished = True
                    if self._active is turn:
                        self._active = None
                    if turn.confirmed.is_set():
                        self._set_state(EngineState.LISTENING)
                    continue
                turn.text = text
                if turn.confirmed.is_set():
                    self._publish_confirmed(turn)
            self._think_jobs.put(turn)

    def _hint(self) -> str | None:
        try:
            return self.listening_hint() if self.listening_hint is not None else None
        except Exception:  # noqa: BLE001 - a hint is optional
            _log.exception("listening hint failed")
            return None

    # stage 3: the kernel ------------------------------------------------------------------
    def _think_loop(self) -> None:
        lower_this_thread(BACKGROUND)  # listening comes first (see scheduling.py)
        while True:
            turn = self._think_jobs.get()
            if turn is _STOP:
                return
            if turn.cancel.is_set():
                continue
            chunker = PhraseChunker(first_min_words=2, first_max_words=5)
            index = 0

            def take(piece: str, turn: Turn = turn, chunker: PhraseChunker = chunker) -> None:
                nonlocal index
                turn.mark("first_token")
                with self._turn_lock:
                    if turn.cancel.is_set():
                        return
                    turn.reply.append(piece)
                    if turn.confirmed.is_set():
                        self.bus.publish(ReplyToken(turn_id=turn.id, text=piece))
                if not self.settings.stream_reply:
                    return
                for phrase in chunker.feed(piece):
                    turn.mark("first_phrase")
                    self._speak_jobs.put((turn, index, phrase))
                    index += 1

            turn.mark("llm_start")
            try:
                _, turn.plan, _ = self.kernel.draft_answer(
                    self.conversation_id, turn.text, on_token=take, cancel=turn.cancel
                )
            except Exception as exc:  # noqa: BLE001
                self.bus.publish(EngineError(code="llm-failed", message=str(exc)))
            if turn.cancel.is_set():
                continue
            rest = chunker.flush() if self.settings.stream_reply else ["".join(turn.reply)]
            for phrase in (p for p in rest if p.strip()):
                turn.mark("first_phrase")
                self._speak_jobs.put((turn, index, phrase))
                index += 1
            self._speak_jobs.put((turn, None, None))  # end of reply

    # stage 4: synthesis ------------------------------------------------------------------
    def _speak_loop(self) -> None:
        lower_this_thread(SOON)
        while True:
            job = self._speak_jobs.get()
            if job is _STOP:
                return
            turn, index, text = job
            if turn.cancel.is_set():
                continue
            if index is None:
                with self._turn_lock:
                    turn.generation_done = True
                    self._maybe_finish(turn)
                continue
            try:
                audio = self.models.tts.speak(text)
            except Exception as exc:  # noqa: BLE001
                self.bus.publish(EngineError(code="tts-failed", message=str(exc)))
                continue
            if turn.cancel.is_set() or audio.size == 0:
                continue
            phrase = Phrase(turn.id, index, text, self.speaker.to_device_rate(audio))
            with self._turn_lock:
                if turn.cancel.is_set():
                    continue
                turn.phrases.append(phrase)
                turn.mark("first_audio_ready")
                self.speaker.enqueue(phrase)

    # stage 5: playback notes → events, history -----------------------------------------
    def _notes_loop(self) -> None:
        while self._running.is_set() or not self.speaker.notes.empty():
            try:
                note: PlaybackNote = self.speaker.notes.get(timeout=0.1)
            except queue.Empty:
                continue
            self._last_playback = time.monotonic()
            turn = next((t for t in reversed(self.turns) if t.id == note.phrase.turn_id), None)
            if turn is None or turn.cancel.is_set():
                continue
            if note.kind == "started":
                self._spoken.append((time.monotonic(), note.phrase.text))
                turn.marks.setdefault("first_sample", note.at)
                self.bus.publish(PhraseSpoken(turn_id=turn.id, text=note.phrase.text))
                self._set_state(EngineState.SPEAKING)
            else:
                with self._turn_lock:
                    self._maybe_finish(turn)

    def _maybe_finish(self, turn: Turn) -> None:
        """A turn is over when generation is done and all its phrases were played."""
        if turn.finished or not turn.generation_done or not turn.confirmed.is_set():
            return
        if not all(p.done for p in turn.phrases):
            return
        turn.finished = True
        # Exactly what the model wrote, so the next prompt reuses its KV cache.
        reply = "".join(turn.reply).strip()
        self._record(turn, reply, interrupted=False)
        if self._active is turn:
            self._active = None
        self.bus.publish(ReplyFinished(turn_id=turn.id, text=reply, interrupted=False))
        self._set_state(EngineState.LISTENING)

    def _record(self, turn: Turn, reply: str, *, interrupted: bool) -> None:
        """Store the exchange as the user experienced it; a storage failure is reported,
        and the conversation goes on."""
        try:
            if self.conversation_id is None:
                self.conversation_id = self.kernel.start_conversation(_title(turn.text))
            self.kernel.record_exchange(
                self.conversation_id, turn.text, reply, interrupted=interrupted, plan=turn.plan
            )
        except Exception as exc:  # noqa: BLE001
            self.bus.publish(EngineError(code="store-failed", message=str(exc), recoverable=True))


def _title(text: str) -> str:
    return " ".join(text.split()[:8]) or "Voice conversation"


def voice_kernel(models: VoiceModels, settings: EngineSettings) -> tuple[Kernel, Path | None]:
    """A kernel on the voice model with the settings' system prompt; its store is the
    settings' file, or a temporary one (returned, to be removed at stop)."""
    temporary = None
    path = settings.store_path
    if path is None:
        temporary = Path(tempfile.mkdtemp(prefix="vistavox-conversation-"))
        path = temporary / "conversation.db"
    persona = Persona(
        name="voice",
        title="Voice",
        system_prompt=settings.system_prompt,
        temperature=models.llm.settings.temperature,
    )
    kernel = Kernel(
        models.llm, Store(path), persona, reply_reserve=models.llm.settings.max_reply_tokens
    )
    add_everyday_intents(kernel)
    return kernel, temporary


def _heard_text(spoken: list[Phrase]) -> str:
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


def _rms_db(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(samples**2)) + 1e-10))


def _loud_seconds(samples: np.ndarray, floor_db: float) -> float:
    """How long ``samples`` are louder than ``floor_db``, frame by frame (in seconds)."""
    return float(np.count_nonzero(_frame_db(samples) > floor_db)) * FRAME / SPEECH_RATE


def _cancelled_seconds(heard: np.ndarray, cancelled: np.ndarray, drop_db: float = 10.0) -> float:
    """How long the canceller took ``drop_db`` or more out of what the microphone heard
    (the echo; where it cannot follow the echo path, as one too slow, it takes out little)."""
    n = min(heard.size, cancelled.size) // FRAME * FRAME
    before = _frame_db(heard[:n])
    after = _frame_db(cancelled[:n])
    removed = (before > -60.0) & (before - after >= drop_db)
    return float(np.count_nonzero(removed)) * FRAME / SPEECH_RATE


def _frame_db(samples: np.ndarray) -> np.ndarray:
    frames = samples[: samples.size // FRAME * FRAME].reshape(-1, FRAME).astype(np.float64)
    return 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def _level(samples: np.ndarray) -> LevelMeter:
    peak = float(np.max(np.abs(samples)) + 1e-10)
    return LevelMeter(rms_db=_rms_db(samples), peak_db=20 * np.log10(peak))


def _to_monotonic(audio_s: float, block: MicBlock) -> float:
    """Map a position on the input timeline to time.monotonic(): when that sound was
    captured (not when it was processed, which is later when listening falls behind)."""
    return block.captured + (audio_s - block.start_s)
