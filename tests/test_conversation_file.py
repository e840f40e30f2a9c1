"""The conversation loop driven by a recording instead of a microphone (no audio devices):
push-to-talk, and the wake-word seam."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from tests.conftest import play_out, user_speech, word_error_rate

RATE = 16_000


@pytest.fixture(scope="module")
def models():
    from vistavox.pipelines.voice_models import VoiceModels

    return VoiceModels.load_defaults()


def _conversation(models, path, **settings):
    from vistavox.pipelines.audio.microphone import FileMicrophone
    from vistavox.pipelines.audio.speaker import RecordingSpeaker
    from vistavox.pipelines.conversation import Conversation, EngineSettings
    from vistavox.pipelines.events import EventBus, EventLog

    bus = EventBus()
    log = EventLog(bus)
    mic = FileMicrophone(path, tail_s=4.0)
    speaker = RecordingSpeaker(source_rate=models.tts.sample_rate)
    conversation = Conversation(models, mic, speaker, settings=EngineSettings(**settings), bus=bus)
    return conversation, mic, log


def _speech(models, text):
    return user_speech(models.tts, text)


def test_push_to_talk_takes_speech_only_while_pressed(models, tmp_path):
    from vistavox.pipelines.audio.files import write_wav
    from vistavox.pipelines.events import FinalTranscript, ReplyFinished

    question = _speech(models, "What is the capital of France?")
    chatter = _speech(models, "This part is said with the button up.")
    gap = np.zeros(RATE, np.float32)
    write_wav(tmp_path / "ptt.wav", np.concatenate([gap, chatter, gap, question, gap]), RATE)
    conversation, mic, log = _conversation(models, tmp_path / "ptt.wav", hands_free=False)
    conversation.start()
    press_at = (2 * gap.size + chatter.size) / RATE - 0.2
    release_at = press_at + question.size / RATE + 0.5
    t0 = time.monotonic()
    threading.Timer(press_at - (time.monotonic() - t0), conversation.push_to_talk, [True]).start()
    threading.Timer(
        release_at - (time.monotonic() - t0), conversation.push_to_talk, [False]
    ).start()
    assert log.wait_for(ReplyFinished, 1, timeout=60) is not None
    mic.finished.wait(30)
    conversation.stop()
    finals = log.of_type(FinalTranscript)
    assert len(finals) == 1
    assert word_error_rate("What is the capital of France?", finals[0].text) <= 0.25


def test_wake_word_seam_gates_hands_free_turns(models, tmp_path):
    from vistavox.pipelines.audio.files import write_wav
    from vistavox.pipelines.events import FinalTranscript

    class Never:
        phrase = "Hey Vistavox"

        def __call__(self, frame):
            return False

        def reset(self):
            pass

    gap = np.zeros(RATE, np.float32)
    write_wav(tmp_path / "q.wav", np.concatenate([gap, _speech(models, "Hello there."), gap]), RATE)
    conversation, mic, log = _conversation(models, tmp_path / "q.wav", wake_word=Never())
    conversation.start()
    mic.finished.wait(30)
    conversation.stop()
    assert log.of_type(FinalTranscript) == [], "spoke without the wake word and got a turn"


def test_spoken_turns_are_stored_and_a_later_session_continues_them(models, tmp_path):
    from vistavox.pipelines.audio.files import write_wav
    from vistavox.pipelines.audio.microphone import FileMicrophone
    from vistavox.pipelines.audio.speaker import RecordingSpeaker
    from vistavox.pipelines.conversation import Conversation, EngineSettings
    from vistavox.pipelines.events import EventBus, EventLog, FinalTranscript, ReplyFinished
    from vistavox.pipelines.kernel.kernel import Kernel
    from vistavox.pipelines.kernel.personas import load_persona
    from vistavox.pipelines.kernel.store import Store

    gap = np.zeros(RATE, np.float32)
    write_wav(
        tmp_path / "q.wav",
        np.concatenate([gap, _speech(models, "My name is Ada. What is two plus two?"), gap]),
        RATE,
    )

    def session(conversation_id):
        store = Store(tmp_path / "conversations.db")
        kernel = Kernel(models.llm, store, load_persona("assistant"))
        bus = EventBus()
        log = EventLog(bus)
        mic = FileMicrophone(tmp_path / "q.wav", tail_s=4.0)
        speaker = RecordingSpeaker(source_rate=models.tts.sample_rate)
        conversation = Conversation(
            models,
            mic,
            speaker,
            settings=EngineSettings(),
            bus=bus,
            kernel=kernel,
            conversation_id=conversation_id,
        )
        conversation.start()
        assert log.wait_for(ReplyFinished, 1, timeout=60) is not None
        mic.finished.wait(30)
        conversation.stop()
        return conversation, store, log

    first, store, log = session(None)
    stored = store.messages(first.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant"]
    # What was heard is what was stored (the tiny recogniser may spell the name "Adon").
    heard = log.of_type(FinalTranscript)[0].text
    assert stored[0].content == heard
    assert word_error_rate("My name is Ada. What is two plus two?", heard) <= 0.3, heard
    assert stored[1].content == log.of_type(ReplyFinished)[0].text
    assert store.get_conversation(first.conversation_id).title.startswith("My name is")
    store.close()

    # A new session (a new process would do the same) continues the saved conversation:
    # the model's context for the next question holds the first exchange.
    second, store, _ = session(first.conversation_id)
    assert len(store.messages(first.conversation_id)) == 4
    context = second.messages()
    assert any(m["content"] == heard for m in context if m["role"] == "user")
    store.close()


def test_speaking_again_before_the_transcript_is_ready_loses_no_words(models, tmp_path):
    """On a busy machine transcription can lag behind the user. Speech that starts before
    the last utterance was transcribed continues it: both are transcribed and answered
    together, nothing is dropped."""
    import dataclasses

    from vistavox.pipelines.audio.files import write_wav
    from vistavox.pipelines.events import FinalTranscript, ReplyFinished, SpeechStarted

    class LaggingStt:
        """The real transcriber, made to lag as it does on a loaded machine."""

        def __init__(self, stt):
            self._stt = stt

        def transcribe(self, audio, **options):
            time.sleep(2.5)
            return self._stt.transcribe(audio, **options)

    gap = np.zeros(int(1.2 * RATE), np.float32)
    write_wav(
        tmp_path / "two.wav",
        np.concatenate(
            [
                gap,
                _speech(models, "What is the capital of France?"),
                gap,
                _speech(models, "And how many legs does a spider have?"),
            ]
        ),
        RATE,
    )
    lagging = dataclasses.replace(models, stt=LaggingStt(models.stt))
    conversation, mic, log = _conversation(lagging, tmp_path / "two.wav")
    conversation.start()
    try:
        assert log.wait_for(ReplyFinished, 1, timeout=90) is not None
        mic.finished.wait(30)
        user_turns = [h.content for h in conversation.history if h.role == "user"]
    finally:
        conversation.stop()
    finals = [e.text for e in log.of_type(FinalTranscript)]
    assert len(finals) == 1, finals
    # Both sentences are in the one turn (the tiny recogniser may spell one word of them
    # differently when they are decoded together: "the capital of friends" was seen).
    assert "capital" in finals[0].lower() and "spider" in finals[0].lower()
    assert len(log.of_type(SpeechStarted)) == 2  # two starts were heard ...
    assert not any(e.barge_in for e in log.of_type(SpeechStarted))  # ... neither cut a reply
    assert user_turns == finals


def test_a_spoken_page_edit_changes_the_page_once_the_reply_is_heard(models, tmp_path):
    """'Add a footer saying thank you', said aloud, is made on the open page (no model
    needed) and the assistant says what it did."""
    from vistavox.pipelines.audio.files import write_wav
    from vistavox.pipelines.audio.microphone import FileMicrophone
    from vistavox.pipelines.audio.speaker import RecordingSpeaker
    from vistavox.pipelines.conversation import Conversation, EngineSettings
    from vistavox.pipelines.events import EventBus, EventLog, FinalTranscript, ReplyFinished
    from vistavox.pipelines.kernel.kernel import Kernel
    from vistavox.pipelines.kernel.personas import load_persona
    from vistavox.pipelines.kernel.store import Store
    from vistavox.pipelines.pages.editor import PageEditor

    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>Sign up</h1><button>Join</button></body></html>")
    changes = []
    editor = PageEditor(on_change=lambda path, note: changes.append(note))
    editor.open(page)
    kernel = Kernel(models.llm, Store(tmp_path / "c.db"), load_persona("assistant"))
    kernel.direct_handlers.append(editor.handle)
    gap = np.zeros(RATE, np.float32)
    said = _speech(models, "Add a footer saying thank you.")
    write_wav(tmp_path / "edit.wav", np.concatenate([gap, said, gap]), RATE)
    bus = EventBus()
    log = EventLog(bus)
    mic = FileMicrophone(tmp_path / "edit.wav", tail_s=4.0)
    speaker = RecordingSpeaker(source_rate=models.tts.sample_rate)
    conversation = Conversation(
        models, mic, speaker, settings=EngineSettings(), bus=bus, kernel=kernel
    )
    conversation.listening_hint = editor.vocabulary
    conversation.start()
    try:
        finished = log.wait_for(ReplyFinished, 1, timeout=90)
        assert finished is not None, [e.text for e in log.of_type(FinalTranscript)]
    finally:
        conversation.stop()
    assert finished[0].text.startswith("Done"), (finished[0].text, log.of_type(FinalTranscript))
    assert changes, "the page was not changed"
    html = page.read_text().lower()
    assert "<footer" in html and "thank you" in html


def test_speech_held_at_its_pause_is_judged_then_and_becomes_the_turn_when_it_ends(
    models, tmp_path
):
    """Speech that may be echo is judged at the user's pause, not at the endpoint, so the
    reply is drafted meanwhile: the user's words become the turn when the speech ends (and
    not before); echo judged at the pause leaves nothing when it ends; speech not judged
    yet when it ends is settled as any held speech."""
    from vistavox.pipelines.audio.files import write_wav
    from vistavox.pipelines.conversation import Phase, Suspicion
    from vistavox.pipelines.events import FinalTranscript, SpeechEnded

    wav = tmp_path / "unused.wav"
    write_wav(wav, np.zeros(RATE, np.float32), RATE)
    conversation, _, log = _conversation(models, wav)
    book = conversation.book
    conversation.judge.note_spoken("The ocean is a vast and mysterious world.")

    def held_at_pause():
        book.start_holding()
        suspicion = Suspicion(0.0, time.monotonic(), None, speaker_follow=0.6, echo_path=True)
        return book.hold(np.zeros(RATE, np.float32), 0.0, 0.0, suspicion)

    user = held_at_pause()
    with book.lock:
        assert conversation._settle(user, "What lives in it?") == "What lives in it?"
        user.text = "What lives in it?"
    assert user not in conversation.turns and not log.of_type(SpeechEnded)
    conversation._end_held(user, 1.0)
    assert user in conversation.turns and user.phase is Phase.CONFIRMED
    assert [e.text for e in log.of_type(FinalTranscript)] == ["What lives in it?"]
    assert not book.holding  # playback may go on: the new reply plays

    echo = held_at_pause()
    with book.lock:
        assert conversation._settle(echo, "a vast and mysterious world") is None
    conversation._end_held(echo, 2.0)
    assert echo not in conversation.turns and echo.phase is Phase.ECHO

    pending = held_at_pause()
    conversation._end_held(pending, 3.0)
    assert pending.ended and pending not in conversation.turns
    with book.lock:
        assert conversation._settle(pending, "And how deep is it?") == "And how deep is it?"
    assert pending in conversation.turns
    assert not book.holding and not book.held


def test_a_sentence_with_pauses_loses_no_words_where_no_echo_comes_back(models, tmp_path):
    """JFK's "And so my fellow Americans, ask not what your country can do for you, ask
    what you can do for your country", its pauses made long enough for the replies to its
    parts to play while he goes on, into a conversation whose voice cannot reach the
    microphone (headphones). The replies may quote him (the model knows the speech): every
    word still reaches the kernel, in order."""
    from tests.conftest import EVAL_DIR, normalise_words
    from vistavox.pipelines.audio.files import load_audio, write_wav
    from vistavox.pipelines.events import FinalTranscript

    clip = EVAL_DIR / "speech" / "whisper.cpp_jfk.wav"
    if not clip.is_file():
        pytest.skip(f"{clip} is not here (evaluation material)")
    speech = load_audio(clip)
    gap = np.zeros(3 * RATE, np.float32)
    parts = np.split(speech, [int(t * RATE) for t in (2.8, 4.9, 7.9)])  # at his pauses
    write_wav(
        tmp_path / "jfk.wav", np.concatenate([p for part in parts for p in (part, gap)]), RATE
    )
    conversation, mic, log = _conversation(models, tmp_path / "jfk.wav")
    conversation.start()
    try:
        play_out(conversation, mic, play_s=90)
    finally:
        conversation.stop()
    heard = normalise_words(" ".join(e.text for e in log.of_type(FinalTranscript)))
    assert "what your country can do for you" in heard, heard
    assert "ask what you can do for your country" in heard, heard


def _cued_microphone(path):
    """A FileMicrophone (``path`` in real time, then its tail of silence) whose ``cue``
    makes the user say something from the moment it is called, as at a moment of the
    reply."""
    from vistavox.pipelines.audio.microphone import FileMicrophone

    class CuedMicrophone(FileMicrophone):
        def cue(self, speech: np.ndarray, *, then_s: float) -> None:
            """Say ``speech`` now, then ``then_s`` of silence, and no more."""
            at = self._position  # (read() swaps in the new audio between two blocks)
            self.audio = np.concatenate(
                [self.audio[:at], speech, np.zeros(int(then_s * RATE), np.float32)]
            )

    return CuedMicrophone(path, tail_s=60)


def test_speech_begun_as_the_first_reply_begins_is_heard_and_cuts_it_off(models, tmp_path):
    """The user starts talking the moment the assistant starts its first reply, through
    headphones (its voice cannot reach the microphone, which the engine does not know
    yet): the reply is cut off and the words after the canceller's hold-off (the first
    half second of a reply, see Gate) are the user's turn. (A word said wholly inside the
    hold-off is not heard: README, "Barge-in".)"""
    from vistavox.pipelines.audio.files import write_wav
    from vistavox.pipelines.audio.speaker import RecordingSpeaker
    from vistavox.pipelines.conversation import Conversation, EngineSettings
    from vistavox.pipelines.events import EventBus, EventLog, FinalTranscript, ReplyFinished

    question = _speech(models, "Tell me a long story about a dragon and a knight.")
    write_wav(tmp_path / "q.wav", np.concatenate([np.zeros(RATE, np.float32), question]), RATE)
    mic = _cued_microphone(tmp_path / "q.wav")
    bus = EventBus()
    log = EventLog(bus)
    speaker = RecordingSpeaker(source_rate=models.tts.sample_rate)
    conversation = Conversation(models, mic, speaker, settings=EngineSettings(), bus=bus)
    conversation.start()
    try:
        deadline = time.monotonic() + 120
        while not speaker.busy and time.monotonic() < deadline:
            time.sleep(0.005)
        assert speaker.busy, "the first reply never began"
        mic.cue(_speech(models, "Stop, stop talking now."), then_s=6.0)
        play_out(conversation, mic)
    finally:
        conversation.stop()
    heard = [e.text for e in log.of_type(FinalTranscript)]
    assert len(heard) == 2 and "talking now" in heard[1].lower(), heard
    assert log.of_type(ReplyFinished)[0].interrupted
