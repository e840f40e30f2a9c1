"""The real-time conversation: microphone → capture → gate → listener → transcription →
kernel → phrases → speech → speaker, as threads joined by queues, publishing typed events.

Turn-taking works speculatively: when the user pauses, the final transcript, the reply and
its first phrase of speech are prepared at once; they play the moment the pause is confirmed
as the end of the turn, and are dropped if the user goes on speaking. When the user speaks
over the reply (barge-in), playback stops, generation and queued synthesis are cancelled,
and only the part of the reply that was actually played goes into the history.

``Conversation`` wires the parts; the decisions live in pure or small objects: ``Listener``
(turn-taking), ``Gate`` (is it speech), ``EchoJudge`` (is held speech the user), ``TurnBook``
(every turn, the lock and the one cancel path).
"""

from __future__ import annotations

import itertools
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio.files import SPEECH_RATE
from ..audio.speaker import Phrase, PlaybackNote, Speaker
from ..events import (
    DeviceRecovered,
    EngineError,
    EngineState,
    EventBus,
    FinalTranscript,
    Interrupted,
    ListeningStarted,
    PhraseSpoken,
    ReplyFinished,
    ReplyToken,
    SpeechEnded,
    SpeechStarted,
    StateChanged,
    WakeWordHeard,
)
from ..interpreter import hand_over_promptly
from ..kernel.kernel import Kernel
from ..kernel.open_conversation import OpenConversation
from ..speech.wakeword import strip_wake_word
from ..voice_models import VoiceModels
from .capture import Capture, CapturedFrame, RecentAudio
from .echo_judge import EchoJudge, cancelled_seconds, loud_seconds
from .gate import Gate
from .listener import (
    FRAME_S,
    Abandon,
    Action,
    Confirm,
    Draft,
    Duck,
    EndHeld,
    Heard,
    Hold,
    Listener,
    Partial,
    SpeechStart,
    Unduck,
)
from .settings import EngineSettings
from .stages import PlaybackStage, SpeakStage, ThinkStage, TranscribeStage
from .turns import Phase, Suspicion, Turn, TurnBook
from .utterance import HELD_PREROLL_S
from .voice_kernel import scratch_voice_kernel

_log = logging.getLogger(__name__)
_CHIME_AFTER_S = 0.4  # the wake word's chime, if the user has not gone on talking by then
_CHIME_S = 0.3
_CHIME_LATE_S = 0.25  # a chime this late after its moment in the audio is left out
_OUTPUT_LATENCY_S = 0.5  # (generous: the chime is over by then on any device)


@dataclass
class HistoryEntry:
    """A message of the conversation as the user experienced it."""

    role: str
    content: str
    interrupted: bool = False


class Conversation:
    """A hands-free (or push-to-talk) spoken conversation on given audio devices.

    ``microphone`` is a Microphone or FileMicrophone, ``speaker`` a Speaker or
    RecordingSpeaker built with ``source_rate=models.tts.sample_rate``. ``conversation_id``
    is the stored conversation to continue, or the app's ``OpenConversation`` to share.
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
        conversation_id: int | OpenConversation | None = None,
    ):
        self.models = models
        self.mic = microphone
        self.speaker = speaker
        self.settings = settings or EngineSettings()
        self.bus = bus or EventBus()
        self._own_store: Path | None = None
        if kernel is None:
            kernel, self._own_store = scratch_voice_kernel(models.llm, self.settings)
        self.kernel = kernel
        self.open = (
            conversation_id
            if isinstance(conversation_id, OpenConversation)
            else OpenConversation(conversation_id)
        )
        # Words the user is likely to say now (e.g. page edits while a page is open),
        # given to the recogniser with each utterance.
        self.listening_hint: Callable[[], str | None] | None = None
        self._running = threading.Event()
        self._threads: list[threading.Thread] = []  # the listening thread and the stages
        self._state = EngineState.IDLE
        self._ptt_pressed = False
        self._last_playback = float("-inf")
        self._announcement_ids = itertools.count(-1, -1)  # apart from the turns' ids
        self._chime_at: float | None = None  # when the wake word's chime is due (input s)
        self._chime_ends = float("-inf")  # time.monotonic() when the last chime has played
        self._chime_only = False  # the chime is all the speaker has played since a phrase

        self._echo = None
        if self.settings.echo_cancellation:
            from ..audio.echo import EchoCanceller

            self._echo = EchoCanceller()
            self.speaker.on_reference = self._echo.add_reference
        self.book = TurnBook(speaker, keep=self.settings.history_turns)
        self.book.on_cut = self._cut
        self.judge = EchoJudge(
            lambda audio, hint: self._transcribe.transcribe(audio, hint),
            echo_gate_db=self.settings.echo_gate_db,
        )
        self._capture = Capture(
            self._echo, on_level=self.bus.publish, level_every_s=self.settings.level_every_s
        )
        self._gate = Gate(self.settings, self._echo)
        self._listener = Listener(self.settings)
        self._draft: Turn | None = None  # made at the user's last pause (listening thread)
        self._last_why = ""  # why the gate last decided as it did (for the debug log)
        # What the microphone heard last, raw, across utterances (see _follows_speaker).
        self._recent_raw = RecentAudio(HELD_PREROLL_S)
        # Called with each frame the listener got and the actions it gave (for recording
        # traces that replay through a Listener without models or devices).
        self.on_listened: Callable[[Heard, list[Action]], None] | None = None
        self._suspect: tuple[float, Turn | None] | None = None  # (onset, reply it may cut)
        self._whole: Turn | None = None  # a draft whose words make a whole sentence
        self._transcribe = TranscribeStage(
            models.stt,
            self.judge,
            hint=self._hint,
            on_words=self._words,
            on_failed=self._transcription_failed,
            publish=self.bus.publish,
        )
        self._speak = SpeakStage(
            models.tts,
            speaker,
            self.book,
            on_reply_written=self._maybe_finish,
            publish=self.bus.publish,
        )
        self._think = ThinkStage(
            kernel,
            lambda: self.open.id,
            on_token=self._token,
            speak=self._speak.say,
            stream_reply=self.settings.stream_reply,
            publish=self.bus.publish,
        )
        self._playback = PlaybackStage(speaker, self._played)
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
    @property
    def conversation_id(self) -> int | None:
        return self.open.id

    @conversation_id.setter
    def conversation_id(self, value: int | None) -> None:
        self.open.open(value)

    @property
    def turns(self) -> list[Turn]:
        """The latest turns whose speech ended (a bounded history)."""
        with self.book.lock:
            return list(self.book.history)

    def start(self) -> None:
        """Open the devices (output first: the first input block can be slow) and listen."""
        hand_over_promptly()  # (the listening thread must get the interpreter lock back)
        self.kernel.warm_up(self.open.id)
        self.speaker.start()
        self.mic.start()
        self._running.set()
        listen = threading.Thread(target=self._listen_loop, name="vistavox-listen", daemon=True)
        listen.start()
        self._threads = [listen]
        for stage in (self._transcribe, self._think, self._speak, self._playback):
            self._threads.append(stage.start())
        mode = "hands-free" if self.settings.hands_free else "push-to-talk"
        wake_word = self.settings.wake_word if self.settings.hands_free else None
        self.bus.publish(
            ListeningStarted(
                mode=mode,
                input_device=self.mic.device,
                output_device=self.speaker.device,
                wake_word=wake_word.phrase if wake_word is not None else "",
            )
        )
        self._set_state(EngineState.LISTENING)

    def stop(self) -> None:
        """Ordered shutdown: input, processing, output. Joins every thread."""
        if not self._running.is_set():
            return
        self._running.clear()
        self.interrupt(reason="shutdown")
        self._threads[0].join(timeout=10)
        for stage in (self._transcribe, self._think, self._speak, self._playback):
            stage.stop()
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
        """Stop speaking and thinking now: the Stop button ("user"), barge-in, a lost
        device, shutdown."""
        _log.debug("interrupted: %s", reason)
        self.book.cancel_active(reason)

    def announce(self, text: str) -> None:
        """Say ``text`` outside any turn (a timer that ended), after what is playing; it is
        the assistant's own voice to the echo judge, as replies are."""
        audio = self.models.tts.speak(text)
        if audio.size == 0:
            return
        with self.book.lock:
            turn_id = next(self._announcement_ids)
            self.speaker.enqueue(Phrase(turn_id, 0, text, self.speaker.to_device_rate(audio)))
            self.speaker.release(turn_id)
        self.judge.note_spoken(text, audio.size / self.models.tts.sample_rate)

    @property
    def history(self) -> list[HistoryEntry]:
        """The stored conversation as the user experienced it (replies as heard)."""
        if self.open.id is None:
            return []
        return [
            HistoryEntry(m.role, m.content, m.interrupted)
            for m in self.kernel.store.messages(self.open.id)
        ]

    def messages(self) -> list[dict]:
        """The chat as the language model will see it before the next turn (the kernel's
        context plan: pinned system prompt, summary, recent turns)."""
        return self.kernel.plan(self.open.id, "").messages[:-1]

    @property
    def state(self) -> EngineState:
        return self._state

    def is_idle(self) -> bool:
        """True when nobody is speaking and no reply is being prepared or played."""
        return (
            not self.book.busy()
            and not self.speaker.busy
            and self._state in (EngineState.LISTENING, EngineState.INTERRUPTED)
        )

    # listening ----------------------------------------------------------------------------
    def _listen_loop(self) -> None:
        while self._running.is_set():
            block = self.mic.read(timeout=0.1)
            self.speaker.watchdog()
            if block is None:
                continue
            for frame in self._capture.frames(block):
                self._listen(frame)

    def _listen(self, frame: CapturedFrame) -> None:
        s = self.settings
        self._recent_raw.add(frame.raw)
        listener = self._listener
        whole, self._whole = self._whole, None
        if whole is not None and whole is self._draft:
            listener.complete()
        if s.hands_free:
            # (An announcement or the chime alone keeps nothing open: its echo cannot wake.)
            busy = s.wake_word is not None and self.book.busy()
            gated = self._gate(
                frame,
                holding=listener.holding,
                in_speech=listener.in_speech,
                busy=busy,
                chime_only=self._chime_only,
            )
            heard, p, raw_p = gated.heard, gated.probability, gated.raw_probability
            if gated.woke:
                self._woke(frame)
            if raw_p >= s.endpoint.start_threshold > p and gated.why != self._last_why:
                _log.debug("speech at %.3f not taken: %s", frame.end_s, gated.why)
            self._last_why = gated.why
        else:  # (no speech detection: the button says when the user talks)
            heard = frame.raw if not frame.assistant_audible else frame.cancelled
            p = raw_p = 0.0
        echo_free = (
            listener.holding
            and raw_p >= s.endpoint.start_threshold
            and self._echo is not None
            and self._echo.echo_free_at(frame.captured_at - FRAME_S)
        )
        heard_frame = Heard(
            heard,
            frame.raw,
            frame.cancelled,
            frame.end_s,
            p,
            raw_p,
            speaker_busy=self.speaker.busy,
            replying=self.speaker.busy or self.book.replying(),
            held_pending=bool(self.book.held),
            echo_possible=self._may_be_echo(frame.captured_at),
            echo_free=echo_free,
            ptt=None if s.hands_free else self._ptt_pressed,
            recogniser_idle=self._transcribe.idle,
        )
        actions = listener.push(heard_frame)
        if self._chime_at is not None and (listener.in_speech or frame.end_s >= self._chime_at):
            late = time.monotonic() - frame.captured_at
            if late > _CHIME_LATE_S:
                # Listening has fallen behind (a busy machine): the user may be asking
                # their question by now, and the chime would play over it.
                _log.debug("the wake word's chime skipped: listening is %.2f s behind", late)
            elif not listener.in_speech:
                self._chime()
            self._chime_at = None
        if self.on_listened is not None:
            self.on_listened(heard_frame, actions)
        for action in actions:
            if not isinstance(action, Partial):
                _log.debug(
                    "%s at %.3f: p=%.2f raw_p=%.2f", type(action).__name__, frame.end_s, p, raw_p
                )
            self._act(action, frame)

    def _act(self, action: Action, frame: CapturedFrame) -> None:
        def at(audio_s: float) -> float:  # on the input timeline → time.monotonic()
            return frame.captured_at + (audio_s - frame.end_s)

        match action:
            case Duck():
                self.speaker.pause()
            case Unduck():
                self.speaker.resume()
            case SpeechStart():
                barge, interrupt = action.barge, action.interrupt
                if self.settings.barge_in:
                    carried = self.book.withdraw_untranscribed()
                    if carried is not None:  # (that turn was all the reply there was)
                        self._listener.carry(carried)
                        barge = self.speaker.busy or self.book.replying()
                        interrupt = interrupt and barge
                if action.held:
                    # Playback stays paused until the words decide (see _words).
                    self.book.start_holding()
                    self._suspect = (at(action.at), self.book.active if barge else None)
                else:
                    self._speech_started(action.at, barge=barge)
                    if interrupt:
                        self.interrupt(reason="barge-in")
                    self.book.sync_pause()  # (resumes if it ducked for this speech)
            case Partial():
                self._transcribe.partial(action.audio)
            case Draft():
                self._draft = self.book.draft(action.audio, action.end_s, at(action.end_s))
                self._transcribe.final(self._draft)
            case Hold():
                turn = self._hold(action, at(action.end_s), frame.captured_at)
                if not action.final:
                    self._draft = turn
            case Abandon():
                self._abandon()
            case Confirm():
                turn, self._draft = self._draft, None
                if turn is None:
                    turn = self.book.draft(action.audio, action.end_s, at(action.end_s))
                    self._transcribe.final(turn)
                self._confirm(turn, action.end_s)
            case EndHeld():
                turn, self._draft = self._draft, None
                if turn is not None:
                    self._end_held(turn, action.end_s)

    def _woke(self, frame: CapturedFrame) -> None:
        """The wake word was heard: the window shows it, and a chime answers if the user
        stops there (said in one breath with the question, it would only talk over it)."""
        phrase = self.settings.wake_word.phrase
        _log.debug("wake word %r heard at %.3f", phrase, frame.end_s)
        self.bus.publish(
            WakeWordHeard(phrase=phrase, audio_at=frame.end_s, window_s=self.settings.wake_window_s)
        )
        if self.settings.wake_sound:
            self._chime_at = frame.end_s + _CHIME_AFTER_S

    def _chime(self) -> None:
        """A short soft chime through the speaker (the canceller takes it out). A tone has
        no words: the user's question over it is taken as theirs at once, not held as
        possible echo (see ``_may_be_echo`` and ``Gate``)."""
        from ..audio.device_test import chime

        sound = chime(self.speaker.rate, _CHIME_S)
        with self.book.lock:
            turn_id = next(self._announcement_ids)
            self.speaker.enqueue(Phrase(turn_id, 0, "", sound))
            self._chime_ends = time.monotonic() + _CHIME_S + _OUTPUT_LATENCY_S
            self._chime_only = True
            self.speaker.release(turn_id)

    def _may_be_echo(self, moment: float) -> bool:
        """Could speech that starts at ``moment`` (time.monotonic()) be the assistant's own
        voice coming back (it talks, or just did, through speakers)? Held speech is judged
        on the acoustic evidence first (see EchoJudge): with headphones the user's words
        are theirs, and playback pauses at once."""
        if self._echo is None or not self.settings.check_echo_words:
            return False
        recently = moment - self._last_playback < self.settings.echo_words_after_s
        chiming = moment < self._chime_ends  # (a tone: nothing of it can be taken for words)
        return (self.speaker.busy and not chiming) or recently

    def _hold(self, action: Hold, end_at: float, captured_until: float) -> Turn:
        """Hold speech that may be echo (as the microphone heard it, and as the canceller
        left it) and queue it for transcription; ``_words`` decides."""
        audio = action.raw
        started, interrupts = self._suspect or (end_at, None)
        echo = self._echo
        suspicion = Suspicion(
            action.held.onset_s,
            started,
            interrupts,
            clear_from=action.held.clear_from,
            clear_frames=action.held.clear_frames,
            cancelled_audio=action.cancelled,
            path_followed=echo.echo_lag_reliable(),
            speaker_follow=self._follows_speaker(audio, captured_until),
            echo_path=echo.echo_path(),
            ended=captured_until,
        )
        turn = self.book.hold(audio, action.end_s, end_at, suspicion)
        if _log.isEnabledFor(logging.DEBUG):  # (the measures below cost the listening thread)
            self._log_held(action, suspicion)
        if action.final:
            self.book.end(turn)
            self.book.stop_holding()
        self._transcribe.final(turn)
        return turn

    def _follows_speaker(self, audio: np.ndarray, captured_until: float) -> float:
        """How closely held raw ``audio``, captured until ``captured_until``, follows the
        speaker at some delay, over at least the held preroll's length of what the microphone
        heard (seen under load: echo held 0.4 s after an earlier stretch, too short to
        tell by, was left to its words and made a turn of its own)."""
        audio = self._recent_raw.at_least(audio)
        return self._echo.follows_at_any_delay(audio, captured_until - audio.size / SPEECH_RATE)

    def _log_held(self, action: Hold, suspicion: Suspicion) -> None:
        audio = action.raw
        _log.debug(
            "held %.2f s of speech (%.2f s of it with no echo around; echo path %s, delay %s "
            "frames, steady: %s; echo taken out of %.2f s, %.2f s loud after it; follows the "
            "speaker at some delay: %.2f) until its words are known",
            audio.size / SPEECH_RATE,
            suspicion.clear_frames * FRAME_S,
            suspicion.echo_path,
            self._echo.echo_lag,
            suspicion.path_followed,
            cancelled_seconds(audio, action.cancelled),
            loud_seconds(action.cancelled, self.settings.echo_gate_db),
            suspicion.speaker_follow,
        )

    def _abandon(self) -> None:
        """The user went on talking after a pause: what was drafted is dropped. Held speech
        already found to be the user's goes on as theirs; echo, or speech not judged yet,
        is held again."""
        with self.book.lock:
            turn, self._draft = self._draft, None
            if turn is not None:
                if turn.suspicion is None and not turn.finished:
                    self._listener.trust()
                    self.book.holding = False
                self.book.cancel(turn, heard=False)
                self.book.sync_pause()
        self._set_state(EngineState.HEARING)

    def _end_held(self, turn: Turn, end_s: float) -> None:
        """Speech held at its pause has ended there: if its words showed it to be the
        user's, it is their turn, whose reply may be drafted already; if they are not known
        yet, it waits for them as any held speech; if it was echo, nothing is left."""
        with self.book.lock:
            self.book.holding = False
            judged_user = turn.phase is Phase.DRAFTING
            if turn.phase is Phase.HELD:
                self.book.end(turn)
            self.book.sync_pause()
        if judged_user:
            self._confirm(turn, end_s)

    def _confirm(self, turn: Turn, end_s: float) -> None:
        self.bus.publish(SpeechEnded(audio_at=end_s, duration_s=turn.audio.size / SPEECH_RATE))
        with self.book.lock:
            if not self.book.end(turn):
                return
            if turn.text:
                self._publish_confirmed(turn)
        self._set_state(EngineState.THINKING)

    def _speech_started(self, audio_at: float, *, barge: bool) -> None:
        self.bus.publish(SpeechStarted(audio_at=audio_at, barge_in=barge))
        self._set_state(EngineState.HEARING)

    # transcription → the kernel ------------------------------------------------------------
    def _words(self, turn: Turn, text: str) -> None:
        """A turn's words are known: held speech is judged, and the user's words go to the
        kernel."""
        with self.book.lock:
            if turn.cancel.is_set():
                return
            if turn.suspicion is not None:
                text = self._settle(turn, text)
                if text is None:
                    return
            if self.settings.wake_word is not None:  # (the model is not told the word)
                text = strip_wake_word(text, self.settings.wake_word.phrase)
            if not text:  # silence, noise or the wake word alone: no turn
                self.book.cancel(turn, heard=False)
                if turn.ended:
                    self._set_state(EngineState.LISTENING)
                return
            turn.text = text
            if turn.answering:
                self._publish_confirmed(turn)
            elif not turn.ended and whole_sentence(text):
                self._whole = turn  # (the listening thread takes it: see _listen)
        self._think.jobs.put(turn)

    def _settle(self, turn: Turn, text: str) -> str | None:
        """The verdict on held speech: echo is dropped and playback resumes (None); the
        user cuts the reply off (their words). Call with the book's lock held."""
        suspicion = turn.suspicion
        verdict = self.judge.verdict(suspicion, text)
        if self._echo is not None:
            ended = suspicion.ended if suspicion.ended is not None else time.monotonic()
            self._echo.judged(suspicion.started - HELD_PREROLL_S, ended, echo=verdict.echo)
        if verdict.echo:
            _log.info("ignored the assistant's own voice coming back: %r", verdict.heard)
            self.book.take_as_echo(turn)
            return None
        # The user started talking, and cut off the reply (or a newer turn), in that order.
        cut = [t for t in (suspicion.interrupts, self.book.active) if t is not None]
        cut = [t for i, t in enumerate(cut) if not t.finished and t not in cut[:i]]
        self._speech_started(suspicion.audio_at, barge=bool(cut))
        for old in cut:
            self.book.cancel(old, heard=True, reason="barge-in")
        self.book.take_as_user(turn)
        _log.info("held speech is the user's: %r (heard %r)", verdict.text, verdict.heard)
        if turn.ended:
            self.bus.publish(
                SpeechEnded(audio_at=turn.speech_end_s, duration_s=turn.audio.size / SPEECH_RATE)
            )
            self._set_state(EngineState.THINKING)
        return verdict.text

    def _transcription_failed(self, turn: Turn) -> None:
        """Never leave a turn waiting (or playback paused) for words that will not come."""
        self.book.cancel(turn, heard=False)

    def _hint(self) -> str | None:
        try:
            return self.listening_hint() if self.listening_hint is not None else None
        except Exception:  # noqa: BLE001 - a hint is optional
            _log.exception("listening hint failed")
            return None

    def _token(self, turn: Turn, piece: str) -> None:
        with self.book.lock:
            if turn.cancel.is_set():
                return
            turn.reply.append(piece)
            if turn.answering:
                self.bus.publish(ReplyToken(turn_id=turn.id, text=piece))

    def _publish_confirmed(self, turn: Turn) -> None:
        """Once a turn is both confirmed and transcribed: announce it and let it play."""
        self.bus.publish(FinalTranscript(turn_id=turn.id, text=turn.text))
        for piece in list(turn.reply):
            self.bus.publish(ReplyToken(turn_id=turn.id, text=piece))
        self.speaker.release(turn.id)

    # playback → events, history -----------------------------------------------------------
    def _played(self, note: PlaybackNote) -> None:
        if note.phrase.turn_id < 0 and not note.phrase.text:  # the chime: no words to note
            return
        self._last_playback = time.monotonic()
        if note.kind == "started":
            phrase = note.phrase
            self._chime_only = False
            self.judge.note_spoken(phrase.text, phrase.samples.size / self.speaker.rate, note.at)
        turn = self.book.find(note.phrase.turn_id)
        if turn is None or turn.cancel.is_set():
            return
        if note.kind == "started":
            turn.marks.setdefault("first_sample", note.at)
            self.book.speaking(turn)
            self.bus.publish(PhraseSpoken(turn_id=turn.id, text=note.phrase.text))
            self._set_state(EngineState.SPEAKING)
        else:
            self._maybe_finish(turn)

    def _maybe_finish(self, turn: Turn) -> None:
        """A turn is over when generation is done and all its phrases were played."""
        with self.book.lock:
            if not self.book.finish(turn):
                return
            # Exactly what the model wrote, so the next prompt reuses its KV cache.
            reply = "".join(turn.reply).strip()
            self._record(turn, reply, interrupted=False)
            self.bus.publish(ReplyFinished(turn_id=turn.id, text=reply, interrupted=False))
        self._set_state(EngineState.LISTENING)

    def _cut(self, turn: Turn, heard: str, reason: str) -> None:
        """A reply the user had started to hear was cut off (TurnBook.on_cut)."""
        self._record(turn, heard, interrupted=True)
        self.bus.publish(Interrupted(turn_id=turn.id, heard=heard, reason=reason))
        self.bus.publish(ReplyFinished(turn_id=turn.id, text=heard, interrupted=True))
        self._set_state(EngineState.INTERRUPTED)

    def _record(self, turn: Turn, reply: str, *, interrupted: bool) -> None:
        """Store the exchange as the user experienced it; a storage failure is reported,
        and the conversation goes on."""
        try:
            conversation_id = self.open.ensure(
                lambda: self.kernel.start_conversation(_title(turn.text))
            )
            if turn.draft is not None:
                turn.draft.commit(conversation_id, reply, interrupted=interrupted)
            else:
                self.kernel.record_exchange(
                    conversation_id, turn.text, reply, interrupted=interrupted, plan=turn.plan
                )
        except Exception as exc:  # noqa: BLE001
            self.bus.publish(EngineError(code="store-failed", message=str(exc), recoverable=True))

    # devices and state ---------------------------------------------------------------------
    def _set_state(self, state: EngineState) -> None:
        if state != self._state:
            self._state = state
            self.bus.publish(StateChanged(state=state))

    def _device_problem(self, code: str, message: str) -> None:
        self.bus.publish(EngineError(code=code, message=message, recoverable=True))
        if code == "output-device-lost":
            self.interrupt(reason="device")


def whole_sentence(text: str) -> bool:
    """Do the words end as a sentence does (the recogniser punctuates what it hears)?"""
    text = text.strip()
    return len(text.split()) >= 2 and text.endswith(("?", ".", "!")) and not text.endswith("...")


def _title(text: str) -> str:
    return " ".join(text.split()[:8]) or "Voice conversation"
