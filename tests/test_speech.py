"""Voice activity detection and speech recognition on real and synthetic audio."""

from __future__ import annotations

import numpy as np
import pytest

from vistavox.pipelines.errors import NoSpeechError
from vistavox.pipelines.speech.stt import looks_like_hallucination
from vistavox.pipelines.speech.vad import speech_spans, trim_silence

RATE = 16_000


@pytest.fixture(scope="module")
def spoken(synthesizer):
    """'Turn on the kitchen lights' at 16 kHz, with 1.5 s of silence before and after."""
    from vistavox.pipelines.audio.files import SPEECH_RATE
    from vistavox.pipelines.audio.resample import resample

    speech = resample(
        synthesizer.speak("Turn on the kitchen lights."), synthesizer.sample_rate, SPEECH_RATE
    )
    gap = np.zeros(int(1.5 * RATE), dtype=np.float32)
    return np.concatenate([gap, speech, gap]), speech.size


def test_silence_and_noise_hold_no_speech():
    rng = np.random.default_rng(1)
    for audio in (np.zeros(3 * RATE, np.float32), rng.normal(0, 0.03, 3 * RATE).astype(np.float32)):
        assert speech_spans(audio) == []
        with pytest.raises(NoSpeechError):
            trim_silence(audio)


def test_trimming_keeps_the_speech_and_drops_the_silence(spoken):
    audio, speech_len = spoken
    trimmed = trim_silence(audio)
    assert speech_len <= trimmed.size <= speech_len + int(0.6 * RATE)


def test_whisper_transcribes_trimmed_speech(spoken, transcriber):
    from tests.conftest import word_error_rate

    text = transcriber.transcribe(trim_silence(spoken[0])).text
    assert word_error_rate("turn on the kitchen lights", text) <= 0.2, text


def test_known_silence_phrases_are_filtered_but_real_thanks_kept():
    assert looks_like_hallucination("Thank you for watching!", 0.5, -0.9)
    assert looks_like_hallucination(" you", 0.3, -0.8)
    assert not looks_like_hallucination("Thank you for watching the kids.", 0.05, -0.2)
    assert not looks_like_hallucination("Thank you.", 0.01, -0.1)


def test_a_faster_speaking_rate_says_the_same_words_in_less_time(synthesizer, transcriber):
    from vistavox.pipelines.audio.files import SPEECH_RATE
    from vistavox.pipelines.audio.resample import resample

    sentence = "The library opens at nine tomorrow morning."

    def median_length() -> int:  # (the voice varies its durations a little, run to run)
        return sorted(synthesizer.speak(sentence).size for _ in range(3))[1]

    normal = median_length()
    try:
        synthesizer.set_rate(1.5)
        fast_length = median_length()
        fast = synthesizer.speak(sentence)
    finally:
        synthesizer.set_rate(1.0)
    assert fast_length < 0.8 * normal
    heard = transcriber.transcribe(resample(fast, synthesizer.sample_rate, SPEECH_RATE)).text
    assert "library" in heard.lower() and "tomorrow" in heard.lower(), heard
    with pytest.raises(ValueError, match="out of range"):
        synthesizer.set_rate(0)


def test_phrases_of_every_length_do_not_pile_up_memory(synthesizer):
    """Every phrase the assistant says has a new length. Forty of them, 2 to 41 words, leave
    resident memory where it was (ONNX Runtime's arena and per-shape plans kept memory for
    each new length; README: where the growth is)."""
    from tests.voice_soak import trimmed_rss_mb

    sentence = "the ocean is vast and deep with creatures living in its waters below"
    words = sentence.split()
    synthesizer.speak("A few words to begin with.")
    before = trimmed_rss_mb()
    for n in range(2, 42):
        synthesizer.speak(" ".join(words[(n + i) % len(words)] for i in range(n)) + ".")
    assert trimmed_rss_mb() - before < 50


def test_clock_times_are_read_as_people_say_them():
    from vistavox.pipelines.speech.spoken import spoken

    assert spoken("It's 9:04 PM.") == "It's 9 oh four PM."
    assert spoken("At 12:00 and 7:30, or 21:45.") == "At 12 o'clock and 7 thirty, or 21 forty-five."
    assert spoken("Ratio 3:2, score 10:15:20.") == "Ratio 3:2, score 10:15:20."


def test_web_addresses_are_read_as_their_sites():
    """A spoken reply's citation names the site, not every character of the address."""
    from vistavox.pipelines.speech.spoken import spoken

    cited = "Source: Tides explained (https://www.example.org/science/tides?id=12&x=9)"
    assert spoken(cited) == "Source: Tides explained (example.org)"
    assert spoken("See http://127.0.0.1:8765/news.") == "See 127.0.0.1."
    assert spoken("Meet at 9:30 on example.com") == "Meet at 9 thirty on example.com"
