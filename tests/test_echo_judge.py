"""The verdict on speech held as possible echo (EchoJudge), and the TurnBook's one cancel
path: acoustic evidence first, words only where it cannot tell."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.conftest import normalise_words, user_speech

RATE = 16_000
REPLY = "The ocean is a vast and mysterious world."


def _judge(transcribe=lambda audio, hint: ""):
    from vistavox.pipelines.conversation.echo_judge import EchoJudge

    judge = EchoJudge(transcribe, echo_gate_db=-45.0)
    judge.note_spoken(REPLY)
    return judge


def _suspicion(**known):
    from vistavox.pipelines.conversation import Suspicion

    return Suspicion(0.0, time.monotonic(), None, **known)


def test_the_user_quoting_the_reply_is_the_user_where_no_echo_comes_back():
    """With headphones (no echo path) the user's words are theirs even when they repeat
    the reply's ("ask not what your country can do for you" after a reply that quoted it,
    once judged echo by its words and lost)."""
    judge = _judge()
    quoted = "a vast and mysterious world"
    headphones = judge.verdict(_suspicion(echo_path=False), quoted)
    assert not headphones.echo and headphones.text == quoted
    # Where the voice may come back and the envelope cannot tell, the words decide...
    assert judge.verdict(_suspicion(echo_path=True, speaker_follow=0.7), quoted).echo
    assert judge.verdict(_suspicion(echo_path=None, speaker_follow=0.3), quoted).echo


def test_only_what_was_said_just_before_or_during_held_speech_can_be_its_echo():
    """Echo comes back within seconds: the reply's words said a minute ago, said again by
    the user now, are the user's (the old judge looked two minutes back)."""
    from vistavox.pipelines.conversation.echo_judge import EchoJudge

    judge = EchoJudge(lambda audio, hint: "", echo_gate_db=-45.0)
    now = time.monotonic()
    judge.note_spoken(REPLY, seconds=3.0, at=now - 60.0)
    judge.note_spoken("Anything else?", seconds=1.0, at=now - 2.0)
    said = "a vast and mysterious world"
    suspicion = _suspicion(echo_path=True, speaker_follow=0.7, ended=now + 2.0)
    verdict = judge.verdict(suspicion, said)
    assert not verdict.echo and verdict.text == said
    assert judge.verdict(suspicion, "anything else").echo


def test_held_speech_that_follows_the_speaker_is_echo_whatever_its_words():
    """Over a slow echo path the recogniser mishears the echo into words unlike the reply's
    ("Keep on with sales.", seen live, taken for the user's and answered); speech whose
    envelope followed the speaker's closely is dropped as echo all the same, and the
    user's words over the echo, which follow it less, are the user's."""
    judge = _judge()
    assert judge.verdict(_suspicion(echo_path=True, speaker_follow=1.0), "Keep on with sales.").echo
    user = judge.verdict(_suspicion(echo_path=True, speaker_follow=0.6), "Keep on with sales.")
    assert not user.echo and user.text == "Keep on with sales."
    # The reply's own words stay echo where the envelope cannot tell.
    assert judge.verdict(_suspicion(speaker_follow=0.0), "a vast and mysterious world").echo


def test_following_the_speaker_is_evidence_only_once_echo_has_been_heard():
    """A short word in silence follows some stretch of the reply, pauses and all, at some
    delay by chance: the user's "Stop." over a reply that never came back into the
    microphone was dropped as echo on CI. Until the assistant's voice has been heard coming
    back, the words decide."""
    judge = _judge()
    stop = judge.verdict(_suspicion(echo_path=None, speaker_follow=0.96), "Stop.")
    assert not stop.echo and stop.text == "Stop."
    assert judge.verdict(_suspicion(echo_path=True, speaker_follow=0.96), "Stop.").echo


def test_the_assistants_words_leading_the_users_are_taken_off():
    judge = _judge()
    verdict = judge.verdict(
        _suspicion(echo_path=True, speaker_follow=0.7), "mysterious world. What lives in it?"
    )
    assert not verdict.echo and verdict.text == "What lives in it?"


@pytest.fixture(scope="module")
def stt():
    from vistavox.pipelines.speech.stt import Transcriber

    return Transcriber()


@pytest.fixture(scope="module")
def tts():
    from vistavox.pipelines.speech.tts import Synthesizer

    return Synthesizer()


def test_held_speech_over_the_echo_is_judged_by_the_words_heard_without_it(stt, tts):
    """Speech held while the assistant talks through speakers: the recogniser, given the mix,
    may write the assistant's louder voice alone ("There was a brave drag.", seen live and
    on CI) or garble the user's first words. The stretch after playback paused, where no
    echo can reach the microphone, and the echo-cancelled audio give the user's words back;
    echo stays echo."""
    from vistavox.pipelines.conversation.echo_judge import EchoJudge
    from vistavox.pipelines.speech.self_hearing import sounds_like_echo

    def speech(text):
        return user_speech(tts, text)

    judge = EchoJudge(lambda audio, hint: stt.transcribe(audio, hint=hint).text, echo_gate_db=-45)
    reply = "Once upon a time, there was a brave knight named Sir Cedric."
    judge.note_spoken(reply)
    echo = speech("there was a brave knight")[: int(1.2 * RATE)] * 0.5
    user = speech("Stop, wait a moment please.")
    heard = np.concatenate([echo, user]).astype(np.float32)

    def words(text, clear_from=None, clear_frames=0, cancelled=None, followed=True):
        suspicion = _suspicion(
            clear_from=clear_from,
            clear_frames=clear_frames,
            cancelled_audio=cancelled,
            path_followed=followed,
            echo_path=True,
        )
        return judge.words(heard, suspicion, text, None)

    def said(text):
        return {"stop", "wait", "moment", "please"} & set(normalise_words(text).split())

    echoed = "There was a brave drag."
    # All echo, as transcribed; the user went on after playback paused: their words.
    found = words(echoed, clear_from=echo.size + int(0.5 * RATE), clear_frames=25)
    assert len(said(found) & {"wait", "moment", "please"}) >= 2, found
    # Without speech that no echo could reach, echo as transcribed stays echo...
    assert sounds_like_echo(words(echoed), reply)
    # ... unless the canceller took the echo out and left the user's voice (seen on CI).
    cleaned = np.concatenate([echo * 0.01, user]).astype(np.float32)
    found = words(echoed, cancelled=cleaned)
    assert len(said(found)) >= 3, found
    # A canceller that took nothing out, or did not follow the echo path (one too slow for
    # it), gives no other words: what it left is the echo misheard anew.
    assert words(echoed, cancelled=heard) == echoed
    assert words(echoed, cancelled=cleaned, followed=False) == echoed
    # Nor does the near silence it leaves of echo alone, taken out.
    faint = np.random.default_rng(1).normal(0, 0.002, heard.size).astype(np.float32)
    assert words(echoed, cancelled=faint) == echoed
    # The user's, garbled over the echo: the echo-cancelled audio has their words.
    garbled = "A brave truck in the way to moment please."  # (seen live)
    found = words(garbled, cancelled=user)
    assert len(said(found)) >= 3, found
    # Words with none of the echo in them are kept as heard (the canceller can clip the
    # user's first word).
    assert words("Stop, wait.", cancelled=user[int(0.35 * RATE) :]) == "Stop, wait."
    # Echo-cancelled echo (near silence) leaves the words as they were.
    assert words(garbled, cancelled=np.zeros(RATE, np.float32)) == garbled


class _Speaker:
    """Stands in for the speaker: what the book asked of it."""

    def __init__(self):
        self.flushed, self.paused = [], False

    def flush(self, turn_id=None):
        self.flushed.append(turn_id)

    def pause(self):
        self.paused = True

    def resume(self):
        self.paused = False


def test_one_cancel_path_records_what_was_heard_and_keeps_a_bounded_history():
    from vistavox.pipelines.audio.speaker import Phrase
    from vistavox.pipelines.conversation import Phase, TurnBook

    speaker = _Speaker()
    book = TurnBook(speaker, keep=3)
    cut = []
    book.on_cut = lambda turn, heard, reason: cut.append((turn.id, heard, reason))
    audio = np.ones(RATE, np.float32)

    # A reply half heard, then stopped: the heard words are recorded, the audio forgotten.
    turn = book.draft(audio, 1.0, 1.0)
    assert book.end(turn) and turn.phase is Phase.CONFIRMED and book.replying()
    phrase = Phrase(turn.id, 0, "one two three four", np.zeros(100, np.float32), played=50)
    turn.phrases.append(phrase)
    book.cancel_active("barge-in")
    assert cut == [(turn.id, "one two", "barge-in")]
    assert turn.phase is Phase.CANCELLED and turn.cancel.is_set() and not turn.audio.size
    assert speaker.flushed == [turn.id] and book.active is None and not book.busy()

    # A draft dropped because the user went on: nothing recorded.
    draft = book.draft(audio, 2.0, 2.0)
    book.cancel(draft, heard=False)
    assert len(cut) == 1 and draft.phase is Phase.CANCELLED

    # Held speech pauses playback until it is judged.
    book.start_holding()
    suspicion = _suspicion()
    held = book.hold(audio, 3.0, 3.0, suspicion)
    book.stop_holding()
    assert speaker.paused and held.phase is Phase.HELD
    book.take_as_echo(held)
    assert not speaker.paused and held.phase is Phase.ECHO and not book.busy()

    # Only the last few turns stay in memory (the store keeps them all).
    for i in range(10):
        book.end(book.draft(audio, 10.0 + i, 10.0 + i))
    assert len(book.history) == 3 and book.find(turn.id) is None
