"""Endpointing and streaming-transcript agreement: pure logic, no audio hardware."""

from __future__ import annotations

import pytest

from vistavox.pipelines.speech.agreement import LocalAgreement
from vistavox.pipelines.speech.endpoint import Decision, Endpointer, EndpointSettings

FRAME_S = 0.032


def _run(probs: list[float], settings: EndpointSettings | None = None):
    ep = Endpointer(settings or EndpointSettings(min_speech_ms=96, pause_ms=96, hangover_ms=416))
    out = []
    for i, p in enumerate(probs):
        out += [(i, d.decision, round(d.at, 3)) for d in ep.push(p)]
    return out


def test_speech_then_silence_gives_start_pause_end_with_true_times():
    probs = [0.0] * 5 + [0.9] * 20 + [0.05] * 20
    decisions = _run(probs)
    assert [d for _, d, _ in decisions] == [Decision.START, Decision.PAUSE, Decision.END]
    start, pause, end = decisions
    assert start[2] == pytest.approx(5 * FRAME_S)  # onset where speech began
    assert pause[2] == end[2] == pytest.approx(25 * FRAME_S)  # true end, not detection time
    assert pause[0] == 25 + 2  # pause decided after 3 silent frames (96 ms)
    assert end[0] == 25 + 12  # end decided after 13 silent frames (416 ms)


def test_a_short_gap_resumes_instead_of_ending():
    probs = [0.9] * 10 + [0.1] * 5 + [0.9] * 10 + [0.1] * 20
    kinds = [d for _, d, _ in _run(probs)]
    assert kinds == [Decision.START, Decision.PAUSE, Decision.RESUME, Decision.PAUSE, Decision.END]


def test_clicks_shorter_than_min_speech_do_not_start_a_turn():
    probs = ([0.9] * 2 + [0.0] * 10) * 5
    assert _run(probs) == []


def test_endless_speech_is_cut_at_the_turn_limit():
    settings = EndpointSettings(max_turn_s=1.0)
    kinds = [d for _, d, _ in _run([0.9] * 60, settings)]
    assert kinds[:2] == [Decision.START, Decision.END]


def test_local_agreement_commits_only_what_two_decodes_agree_on():
    la = LocalAgreement()
    assert la.update("what is the") == ("", "what is the")
    assert la.update("what is the capital") == ("what is the", "capital")
    assert la.update("What is the capital of France") == ("What is the capital", "of France")
    # A later decode that rewrites committed words does not take them back.
    stable, tentative = la.update("What's the capital of France?")
    assert stable == "What is the capital"
    la.reset()
    assert la.stable == ""


def _envelopes(canceller, ref, mic) -> None:
    for r, m in zip(ref, mic, strict=True):
        canceller._ref_env.append(float(r))
        canceller._mic_env.append(float(m))
        canceller._frames_seen += 1


def test_echo_path_delay_is_learned_and_the_user_is_told_from_echo():
    import numpy as np

    from vistavox.pipelines.audio.echo import EchoCanceller

    rng = np.random.default_rng(1)
    n = 400
    speaker = rng.uniform(-4.0, -1.5, n)  # the assistant's voice, log10 power per 10 ms
    # The room returns it 6 dB down, 90 ms later.
    echo = np.concatenate([np.full(9, -9.0), speaker[:-9]]) - 0.6 + rng.normal(size=n) * 0.05
    canceller = EchoCanceller()
    assert canceller.echo_likelihood() == 0.0  # no echo path seen yet (headphones)
    _envelopes(canceller, speaker, echo)
    canceller.learn_echo_path()
    assert canceller.echo_path() is True
    assert canceller.echo_lag == 9  # the microphone follows the speaker 90 ms later
    assert canceller.echo_likelihood() > 0.95
    # The user talks over the assistant: the microphone no longer follows the speaker.
    user = echo + np.concatenate([np.zeros(n - 40), rng.uniform(1.0, 3.0, 40)])
    _envelopes(canceller, speaker, user)
    assert canceller.echo_likelihood() < 0.8


def test_no_echo_delay_is_learned_where_no_echo_is_heard():
    """With headphones, the user's "Stop." can start just as the assistant's next phrase
    does; the two rise together, a chance "delay" at which the microphone follows the
    speaker. It must not become a delay at which the user's words count as echo."""
    import numpy as np

    from vistavox.pipelines.audio.echo import EchoCanceller

    rng = np.random.default_rng(3)
    n = 400
    speaker = rng.uniform(-4.0, -1.5, n)  # the assistant's voice, log10 power per 10 ms
    speaker[-80:-30] = -9.0  # a pause between two of its phrases
    silent = np.full(n, -12.0)  # the microphone hears nothing of it
    canceller = EchoCanceller()
    _envelopes(canceller, speaker[:-40], silent[:-40])
    canceller.learn_echo_path()
    # The user says "Stop." as the next phrase starts (90 ms after it, by chance).
    said = silent[-40:].copy()
    said[-21:] = rng.uniform(-2.5, -2.0, 21)
    _envelopes(canceller, speaker[-40:], said)
    canceller.learn_echo_path()
    assert canceller.echo_path() is not True
    assert canceller.echo_lag is None
    assert canceller.echo_likelihood() == 0.0


def test_echo_whose_delay_changed_is_still_echo_but_a_louder_user_is_not():
    """The echo path can change under the canceller (an audio server adapting its latency):
    echo no louder than the assistant's echo has been is not the user, at any delay."""
    import numpy as np

    from vistavox.pipelines.audio.echo import EchoCanceller

    rng = np.random.default_rng(2)
    speech = rng.uniform(-4.0, -1.5, 900)  # the assistant's voice, log10 power per 10 ms

    def echo(delay):  # the room returns it 6 dB down after ``delay`` frames
        return np.concatenate([np.full(delay, -9.0), speech[:-delay]]) - 0.6

    canceller = EchoCanceller()
    assert not canceller.only_echo()  # nothing known about the echo yet
    for i in range(0, 600, 30):
        _envelopes(canceller, speech[i : i + 30], echo(9)[i : i + 30])
        canceller.learn_echo_path()
    assert canceller.echo_lag == 9
    # The path now takes 45 frames: correlation at the learned delay is lost ...
    _envelopes(canceller, speech[600:700], echo(45)[600:700])
    assert canceller.echo_likelihood() < 0.8
    assert canceller.only_echo()  # ... but it is no louder than echo: still echo
    # The user speaks over it, louder than the echo by 10 dB.
    user = echo(45)[700:760].copy()
    user[-20:] = speech[700:720].max() + 1.0
    _envelopes(canceller, speech[700:760], user)
    assert not canceller.only_echo()


def test_headphones_are_told_from_speakers_by_what_comes_back():
    """Only a microphone that hears the assistant's voice has an echo path; its noise floor
    while the assistant plays loudly does not count."""
    import numpy as np

    from vistavox.pipelines.audio.echo import EchoCanceller

    rng = np.random.default_rng(4)
    speech = rng.uniform(-3.5, -1.5, 600)  # the assistant's voice, log10 power per 10 ms
    headphones, speakers = EchoCanceller(), EchoCanceller()
    assert headphones.echo_path() is None  # nothing played yet: unknown
    for i in range(0, 600, 40):
        quiet_mic = rng.uniform(-9.5, -9.0, 40)  # -93 dBFS: a silent microphone's noise
        _envelopes(headphones, speech[i : i + 40], quiet_mic)
        headphones.learn_echo_path()
        echo = np.concatenate([np.full(9, -9.0), speech])[i : i + 40] - 0.6
        _envelopes(speakers, speech[i : i + 40], echo)
        speakers.learn_echo_path()
    assert headphones.echo_path() is False and headphones.echo_lag is None
    assert speakers.echo_path() is True and speakers.echo_lag == 9


def test_the_canceller_removes_echo_while_the_speaker_sounds_and_passes_the_mic_otherwise():
    """Real WebRTC cancellation, on a synthetic room: while the assistant plays, its echo is
    cut down; seconds after it stopped, the microphone passes untouched (nothing to cancel,
    and the listening stage is spared the work)."""
    import time

    import numpy as np

    from vistavox.pipelines.audio.echo import RATE, EchoCanceller

    rng = np.random.default_rng(5)
    voice = (rng.normal(0, 0.1, 6 * RATE) * np.sin(np.arange(6 * RATE) / 900.0) ** 2).astype(
        np.float32
    )
    t0 = time.monotonic() - 30.0  # (a past timeline: no frame waits for its reference)
    canceller = EchoCanceller(delay_hint_ms=60)
    canceller.add_reference(voice, t0)
    canceller.add_reference(np.zeros(4 * RATE, np.float32), t0 + 6.0)
    room = np.concatenate([np.zeros(int(0.04 * RATE), np.float32), voice])[: voice.size] * 0.3
    block = RATE // 10
    cancelled = np.concatenate(
        [canceller.process(room[i : i + block], t0 + i / RATE) for i in range(0, room.size, block)]
    )

    def level_db(x: np.ndarray) -> float:
        return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20))

    # After the canceller has adapted (the first seconds), the echo is at least 15 dB down.
    assert level_db(cancelled[4 * RATE :]) < level_db(room[4 * RATE :]) - 15
    # The user talks 2.5 s after the assistant stopped: their voice comes through as it was.
    user = rng.normal(0, 0.05, RATE).astype(np.float32)
    canceller.process(np.zeros(int(2.5 * RATE), np.float32), t0 + 6.0)
    heard = canceller.process(user, t0 + 8.5)
    heard = np.concatenate([heard, canceller.process(np.zeros(block, np.float32), t0 + 9.5)])
    assert np.allclose(heard[: user.size], user, atol=1e-6)


def test_no_echo_can_reach_the_microphone_once_the_speaker_has_been_quiet_long_enough():
    """After playback pauses, speech heard later than the echo path's delay and the room's
    tail is not the assistant's voice, whatever its words sound like; with an echo path whose
    delay is unknown (nothing learned yet), nothing is ever taken as echo-free."""
    import time

    import numpy as np

    from vistavox.pipelines.audio.echo import RATE, EchoCanceller

    rng = np.random.default_rng(6)
    voice = (rng.normal(0, 0.1, 5 * RATE) * np.sin(np.arange(5 * RATE) / 700.0) ** 2).astype(
        np.float32
    )
    t0 = time.monotonic() - 30.0  # (a past timeline: no frame waits for its reference)
    canceller, unlearned = EchoCanceller(delay_hint_ms=60), EchoCanceller(delay_hint_ms=60)
    for c in (canceller, unlearned):
        c.add_reference(voice, t0)
        c.add_reference(np.zeros(3 * RATE, np.float32), t0 + 5.0)  # paused for the user
    delay = int(0.05 * RATE)
    room = np.concatenate([np.zeros(delay, np.float32), voice, np.zeros(3 * RATE, np.float32)])
    block = RATE // 10
    for i in range(0, room.size, block):
        for c in (canceller, unlearned):
            c.process(room[i : i + block], t0 + i / RATE)
        canceller.learn_echo_path()
    assert canceller.echo_lag_reliable()
    assert not canceller.echo_free_at(t0 + 4.0)  # the assistant is talking
    assert not canceller.echo_free_at(t0 + 5.1)  # its last words are still coming back
    assert canceller.echo_free_at(t0 + 5.6)
    assert not unlearned.echo_free_at(t0 + 5.6)


def test_echo_is_told_by_following_the_speaker_at_any_delay_even_a_slow_one():
    """Over an echo path slower than the canceller follows (Bluetooth speakers, 1.8 s here)
    the recogniser mishears the echo, so words cannot give it away; how closely the
    microphone's envelope follows the speaker's at some delay does: the echo alone follows
    it, the user's voice over it (or alone) does not."""
    import time

    import numpy as np

    from vistavox.pipelines.audio.echo import RATE, EchoCanceller
    from vistavox.pipelines.conversation import _FOLLOWS_ECHO

    rng = np.random.default_rng(7)

    def talk(seconds: float) -> np.ndarray:
        """Noise in syllable-like bursts of random loudness (no period to match by chance)."""
        syllables = np.repeat(rng.uniform(0.0, 1.0, int(seconds / 0.15)), int(0.15 * RATE))
        return (rng.normal(0, 0.1, syllables.size) * syllables).astype(np.float32)

    voice, user = talk(8.0), talk(2.0)
    t0 = time.monotonic() - 30.0
    canceller = EchoCanceller(delay_hint_ms=60)
    canceller.add_reference(voice, t0)
    start, delay = 4 * RATE, int(1.8 * RATE)
    echo = voice[start - delay : start - delay + user.size] * 0.3
    at = t0 + start / RATE
    assert canceller.follows_at_any_delay(echo, at) > _FOLLOWS_ECHO
    assert canceller.follows_at_any_delay(echo + user * 0.3, at) < 0.8
    assert canceller.follows_at_any_delay(user * 0.3, at) < 0.5
    # The user 10 dB under the echo is still not taken for it.
    assert canceller.follows_at_any_delay(echo + user * 0.1, at) < _FOLLOWS_ECHO
    # Too little of it to tell: nothing is claimed.
    assert canceller.follows_at_any_delay(echo[: RATE // 4], at) == 0.0


def _talk(rng, seconds: float):
    """Noise in syllable-like bursts of random loudness (no period to match by chance)."""
    import numpy as np

    from vistavox.pipelines.audio.echo import RATE

    syllables = np.repeat(rng.uniform(0.0, 1.0, int(seconds / 0.15)), int(0.15 * RATE))
    return (rng.normal(0, 0.1, syllables.size) * syllables).astype(np.float32)


def test_what_the_speaker_plays_is_dated_where_its_samples_are_heard():
    """The speaker's blocks are resampled for the canceller, which gives its output in
    bursts behind its input: each sample returned is dated by its place in the stream, not
    by the block that released it (a burst dated by that block came up to 40 ms late, so the
    echo seemed to come before the sound, where the canceller cannot follow it)."""
    import numpy as np

    from vistavox.pipelines.audio.speaker import StampedResampler

    rate, block, t0 = 22_050, 441, 100.0
    played = np.zeros(2 * rate, np.float32)
    clicks = [0.5, 1.0, 1.37]
    for s in clicks:
        played[round(s * rate)] = 1.0
    resampler = StampedResampler(rate)
    moments, samples = [], []
    for i in range(0, played.size, block):
        out, at = resampler.resample(played[i : i + block], t0 + i / rate)
        moments.append(at + np.arange(out.size) / 16_000)
        samples.append(out)
    moments, samples = np.concatenate(moments), np.abs(np.concatenate(samples))
    for s in clicks:  # each click is heard where it was played, to within a millisecond
        near = np.abs(moments - t0 - s) < 0.1
        assert abs(moments[near][np.argmax(samples[near])] - t0 - s) < 0.001


def test_echo_over_an_underrun_still_follows_the_speaker():
    """Under load the speaker's device runs dry now and then and plays silence until the
    next block comes: the canceller counts that silence in, so what was played before keeps
    its moment, and held echo across the gap still follows the speaker (re-anchoring the
    clock at the late block instead moved everything before it by the gap)."""
    import time

    import numpy as np

    from vistavox.pipelines.audio.echo import RATE, EchoCanceller
    from vistavox.pipelines.conversation import _FOLLOWS_ECHO

    rng = np.random.default_rng(11)
    voice = _talk(rng, 6.0)
    t0 = time.monotonic() - 30.0
    canceller = EchoCanceller(delay_hint_ms=60)
    block, dry_at, dry_s = RATE // 50, 3 * RATE, 0.25
    for i in range(0, voice.size, block):
        late = dry_s if i >= dry_at else 0.0
        canceller.add_reference(voice[i : i + block], t0 + i / RATE + late)
    played = np.concatenate(
        [voice[:dry_at], np.zeros(int(dry_s * RATE), np.float32), voice[dry_at:]]
    )
    delay = int(0.04 * RATE)
    mic = np.concatenate([np.zeros(delay, np.float32), played])[: played.size] * 0.3
    start, end = int(2.4 * RATE), int(3.6 * RATE)  # held speech across the gap
    assert canceller.follows_at_any_delay(mic[start:end], t0 + start / RATE) > _FOLLOWS_ECHO


def test_short_held_speech_is_compared_with_the_speaker_over_the_last_second_heard():
    """Speech held soon after an earlier stretch was taken has a short preroll: 0.4 s is too
    little to tell echo by, so the last second the microphone heard is compared instead.
    Echo alone then follows the speaker; a short "Stop." over the echo does not."""
    import time

    import numpy as np

    from vistavox.pipelines.audio.echo import RATE, EchoCanceller
    from vistavox.pipelines.conversation import _FOLLOWS_ECHO
    from vistavox.pipelines.conversation.capture import RecentAudio
    from vistavox.pipelines.speech.endpoint import FRAME

    rng = np.random.default_rng(12)
    voice, user = _talk(rng, 8.0), _talk(rng, 0.6)
    t0 = time.monotonic() - 30.0
    canceller = EchoCanceller(delay_hint_ms=60)
    canceller.add_reference(voice, t0)
    delay = int(0.04 * RATE)
    echo = np.concatenate([np.zeros(delay, np.float32), voice])[: voice.size] * 0.3
    start, end = 2 * RATE, 2 * RATE + 50 * FRAME  # 1.6 s of frames, the last 0.4 s held
    held_from = end - int(0.4 * RATE) // FRAME * FRAME
    at = t0 + held_from / RATE

    def heard(mic: np.ndarray) -> np.ndarray:
        recent = RecentAudio(1.0)
        for i in range(start, end, FRAME):
            recent.add(mic[i : i + FRAME])
        return recent.at_least(mic[held_from:end])

    assert canceller.follows_at_any_delay(echo[held_from:end], at) == 0.0  # too little
    longer = heard(echo)
    assert longer.size == RATE
    assert canceller.follows_at_any_delay(longer, t0 + (end - longer.size) / RATE) > _FOLLOWS_ECHO
    with_user = echo.copy()
    with_user[held_from:end] += user[: end - held_from]
    longer = heard(with_user)
    assert canceller.follows_at_any_delay(longer, t0 + (end - longer.size) / RATE) < _FOLLOWS_ECHO


def _held_echo_loop(rng, *, echo_delay_s: float | None, user_at: float | None = None):
    """Thirty seconds of the assistant talking, through a closed loop as the engine runs it:
    speech heard over its voice pauses playback until judged (half a second after it ends),
    echo as echo, the user's voice (a burst at ``user_at`` s) as theirs. The microphone
    hears the speaker ``echo_delay_s`` late (None: headphones, it hears only the user).
    Returns the canceller's echo-path verdict after each second."""
    import time

    import numpy as np

    from vistavox.pipelines.audio.echo import RATE, EchoCanceller

    block, delay = 512, None if echo_delay_s is None else int(echo_delay_s * RATE)
    voice, user = _talk(rng, 40.0), _talk(rng, 0.6)
    played = np.zeros(32 * RATE, np.float32)
    heard_at = np.zeros(32 * RATE, np.float32)
    if user_at is not None:
        heard_at[int(user_at * RATE) : int(user_at * RATE) + user.size] = user
    t0 = time.monotonic() - 60.0  # (a past timeline: no frame waits for its reference)
    canceller = EchoCanceller(delay_hint_ms=60)
    position, loud_blocks, quiet_blocks = 0, 0, 0
    speech_from = resume_at = None
    verdicts = []
    for i in range(4 * block, 30 * RATE, block):
        now = i / RATE
        playing = speech_from is None and (resume_at is None or now >= resume_at)
        if playing:
            played[i : i + block] = voice[position : position + block]
            position += block
        canceller.add_reference(played[i : i + block], t0 + now)
        # The microphone's block from a moment ago (its reference is in by now, as live).
        i, now = i - 4 * block, now - 4 * block / RATE
        mic = heard_at[i : i + block].copy()
        if delay is not None and i >= delay:
            mic += 0.3 * played[i - delay : i - delay + block]
        canceller.process(mic, t0 + now)
        loud = float(np.sqrt(np.mean(mic**2))) > 0.005
        loud_blocks, quiet_blocks = (loud_blocks + 1, 0) if loud else (0, quiet_blocks + 1)
        if speech_from is None and loud_blocks >= 3:
            speech_from = now - 2 * block / RATE  # held: playback pauses
        canceller.learn_echo_path(speech=speech_from is not None)
        if speech_from is not None and quiet_blocks >= 10:  # its end: judged half a second on
            user_spoke = user_at is not None and speech_from <= user_at + 0.6 <= now
            canceller.judged(t0 + speech_from - 1.0, t0 + now, echo=not user_spoke)
            speech_from, resume_at = None, now + 0.5
        if i // RATE != (i + block) // RATE:  # (i: the microphone's)
            verdicts.append(canceller.echo_path())
    return verdicts


def test_a_slow_echo_path_held_time_after_time_is_not_taken_for_headphones():
    """Over an echo path slower than the delays looked at (1.8 s), each echo is held as
    possible speech, pausing playback, so the canceller mostly sees the speaker play while
    the microphone hears the echo of a pause. Echo judged as echo is what shows the path
    (seen live: taken for headphones, the echo then became the user's turns). Headphones,
    with the user cutting in once, are still known within seconds."""
    import numpy as np

    rng = np.random.default_rng(11)
    speakers = _held_echo_loop(rng, echo_delay_s=1.8)
    assert False not in speakers and speakers[-1] is True
    headphones = _held_echo_loop(rng, echo_delay_s=None, user_at=2.0)
    assert headphones.index(False) <= 5 and set(headphones[5:]) == {False}
