"""The engine's worker threads, one small class each, joined by queues: transcription,
the kernel's reply, speech synthesis, and the speaker's playback notes. Each honours the
turn's cancel event (set by ``TurnBook.cancel``, the one cancel path)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

import numpy as np

from ..audio.speaker import Phrase, PlaybackNote, Speaker
from ..events import EngineError, PartialTranscript
from ..scheduling import BACKGROUND, RECOGNITION, SOON, lower_this_thread
from ..speech.agreement import LocalAgreement
from ..speech.chunking import PhraseChunker
from .echo_judge import EchoJudge
from .turns import Turn, TurnBook

STOP = object()
_log = logging.getLogger(__name__)
Publish = Callable[[object], None]


class Stage:
    """A worker thread reading jobs from its queue until ``STOP``."""

    name = "stage"
    priority: int | None = None

    def __init__(self) -> None:
        self.jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self._run, name=f"vistavox-{self.name}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        self.jobs.put(STOP)
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _run(self) -> None:
        if self.priority is not None:
            lower_this_thread(self.priority)  # listening comes first (see scheduling.py)
        while True:
            job = self.jobs.get()
            if job is STOP:
                return
            try:
                self.handle(job)
            except Exception as exc:  # noqa: BLE001 - one job failed; the stage goes on
                _log.exception("the %s stage failed on a job", self.name)
                self.failed(job, exc)

    def failed(self, job, exc: Exception) -> None:
        """A job raised: say so in the window (the conversation goes on)."""
        publish = getattr(self, "_publish", None)
        if publish is not None:
            publish(EngineError(code=f"{self.name}-failed", message=str(exc)))

    def handle(self, job) -> None:
        raise NotImplementedError


class TranscribeStage(Stage):
    """Partial transcripts while the user speaks; the final transcript of each turn (held
    speech transcribed as the EchoJudge needs), handed to ``on_words(turn, text)``."""

    name = "transcribe"
    priority = RECOGNITION

    def __init__(
        self,
        stt,
        judge: EchoJudge,
        *,
        hint: Callable[[], str | None],
        on_words: Callable[[Turn, str], None],
        on_failed: Callable[[Turn], None],
        publish: Publish,
    ) -> None:
        super().__init__()
        self.stt = stt
        self.judge = judge
        self._hint = hint
        self._on_words = on_words
        self._on_failed = on_failed
        self._publish = publish
        self._agreement = LocalAgreement()

    def transcribe(self, audio: np.ndarray, hint: str | None) -> str:
        return self.stt.transcribe(audio, hint=hint).text if audio.size else ""

    def partial(self, audio: np.ndarray) -> None:
        self.jobs.put(("partial", audio))

    def final(self, turn: Turn) -> None:
        self.jobs.put(("final", turn))

    @property
    def idle(self) -> bool:
        return self.jobs.empty()

    def handle(self, job) -> None:
        kind, payload = job
        try:
            if kind == "partial":
                text = self.transcribe(payload, self._hint())
                stable, tentative = self._agreement.update(text)
                self._publish(PartialTranscript(stable=stable, tentative=tentative))
                return
            turn: Turn = payload
            self._agreement.reset()
            if turn.cancel.is_set():
                return
            turn.mark("stt_start")
            hint = self._hint()
            text = self.transcribe(turn.audio, hint)
            if turn.suspicion is not None:
                text = self.judge.words(turn.audio, turn.suspicion, text, hint)
            turn.mark("stt_done")
        except Exception as exc:  # noqa: BLE001 - report and keep listening
            self._publish(EngineError(code="stt-failed", message=str(exc)))
            if kind == "final":
                self._on_failed(payload)
            return
        self._on_words(turn, text)

    def failed(self, job, exc: Exception) -> None:
        super().failed(job, exc)
        kind, payload = job
        if kind == "final":
            self._on_failed(payload)


class ThinkStage(Stage):
    """The kernel drafts the reply to a transcribed turn; its words go out as they come
    (``on_token``) and, phrase by phrase, to the speech stage."""

    name = "think"
    priority = BACKGROUND

    def __init__(
        self,
        kernel,
        conversation_id: Callable[[], int | None],
        *,
        on_token: Callable[[Turn, str], None],
        speak: Callable[[Turn, int | None, str | None], None],
        stream_reply: bool,
        publish: Publish,
    ) -> None:
        super().__init__()
        self.kernel = kernel
        self._conversation_id = conversation_id
        self._on_token = on_token
        self._speak = speak
        self._stream_reply = stream_reply
        self._publish = publish

    def handle(self, turn: Turn) -> None:
        if turn.cancel.is_set():
            return
        chunker = PhraseChunker(first_min_words=2, first_max_words=5)
        index = 0

        def take(piece: str) -> None:
            nonlocal index
            turn.mark("first_token")
            self._on_token(turn, piece)
            if not self._stream_reply or turn.cancel.is_set():
                return
            for phrase in chunker.feed(piece):
                turn.mark("first_phrase")
                self._speak(turn, index, phrase)
                index += 1

        turn.mark("llm_start")
        try:
            turn.draft = self.kernel.draft_answer(
                self._conversation_id(), turn.text, on_token=take, cancel=turn.cancel
            )
            turn.plan = turn.draft.plan
        except Exception as exc:  # noqa: BLE001
            self._publish(EngineError(code="llm-failed", message=str(exc)))
        if turn.cancel.is_set():
            return
        rest = chunker.flush() if self._stream_reply else ["".join(turn.reply)]
        for phrase in (p for p in rest if p.strip()):
            turn.mark("first_phrase")
            self._speak(turn, index, phrase)
            index += 1
        self._speak(turn, None, None)  # end of reply


class SpeakStage(Stage):
    """Phrases of a reply → audio → the speaker's queue (silent until the turn is
    confirmed: the speaker gates by turn)."""

    name = "speak"
    priority = SOON

    def __init__(
        self,
        tts,
        speaker: Speaker,
        book: TurnBook,
        *,
        on_reply_written: Callable[[Turn], None],
        publish: Publish,
    ) -> None:
        super().__init__()
        self.tts = tts
        self.speaker = speaker
        self.book = book
        self._on_reply_written = on_reply_written
        self._publish = publish

    def say(self, turn: Turn, index: int | None, text: str | None) -> None:
        """Queue phrase ``index`` of ``turn``'s reply (None: the reply is complete)."""
        self.jobs.put((turn, index, text))

    def handle(self, job) -> None:
        turn, index, text = job
        if turn.cancel.is_set():
            return
        if index is None:
            with self.book.lock:
                turn.generation_done = True
            self._on_reply_written(turn)
            return
        try:
            audio = self.tts.speak(text)
        except Exception as exc:  # noqa: BLE001
            self._publish(EngineError(code="tts-failed", message=str(exc)))
            return
        if turn.cancel.is_set() or audio.size == 0:
            return
        phrase = Phrase(turn.id, index, text, self.speaker.to_device_rate(audio))
        with self.book.lock:
            if turn.cancel.is_set():
                return
            turn.phrases.append(phrase)
            turn.mark("first_audio_ready")
            self.speaker.enqueue(phrase)


class PlaybackStage:
    """The speaker's notes (a phrase started, a phrase finished) → ``on_note``."""

    name = "playback-notes"

    def __init__(self, speaker: Speaker, on_note: Callable[[PlaybackNote], None]) -> None:
        self.speaker = speaker
        self._on_note = on_note
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> threading.Thread:
        self._running.set()
        self._thread = threading.Thread(
            target=self._run, name="vistavox-playback-notes", daemon=True
        )
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _run(self) -> None:
        while self._running.is_set() or not self.speaker.notes.empty():
            try:
                note = self.speaker.notes.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                self._on_note(note)
            except Exception:  # noqa: BLE001 - a note must not end playback reporting
                _log.exception("handling a playback note failed")
