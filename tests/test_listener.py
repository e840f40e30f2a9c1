"""Turn-taking as a pure object: the Listener gets frames with their speech probabilities
and what the engine knows around them, and gives actions. No models, devices or clock:
hand-made sequences, and traces recorded from the engine replayed faster than real time."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.event_order import TRACES, describe

FRAME = 512
FRAME_S = FRAME / 16_000


def _listener(**settings):
    from vistavox.pipelines.conversation import EngineSettings
    from vistavox.pipelines.conversation.listener import Listener

    return Listener(EngineSettings(**settings))


class Feed:
    """Frames for a listener, one probability at a time, on a running timeline."""

    def __init__(self, listener, **around):
        self.listener = listener
        self.around = around
        self.t = 0.0
        self.actions: list = []

    def __call__(self, probability: float, seconds: float = FRAME_S, **around) -> list:
        from vistavox.pipelines.conversation.listener import Heard

        out = []
        for _ in range(max(1, round(seconds / FRAME_S))):
            self.t += FRAME_S
            level = np.full(FRAME, probability, np.float32)  # (tells frames apart)
            heard = Heard(
                level,
                level,
                level,
                self.t,
                probability,
                probability,
                **{
                    "speaker_busy": False,
                    "replying": False,
                    "held_pending": False,
                    "echo_possible": False,
                    **self.around,
                    **around,
                },
            )
            out += self.listener.push(heard)
        self.actions += out
        return out


def kinds(actions) -> list[str]:
    return [type(a).__name__ for a in actions if type(a).__name__ != "Partial"]


def test_a_pause_drafts_the_turn_speech_going_on_drops_the_draft_the_end_confirms():
    listener = _listener(partial_every_s=0)
    feed = Feed(listener)
    feed(0.0, 0.5)
    assert kinds(feed(0.9, 0.8)) == ["SpeechStart"]
    drafted = feed(0.1, 0.2)
    assert kinds(drafted) == ["Draft"]  # at the pause, before the endpoint
    assert kinds(feed(0.9, 0.5)) == ["Abandon"]  # the user went on
    ended = feed(0.0, 1.0)
    assert kinds(ended) == ["Draft", "Confirm"]
    confirm = ended[-1]
    # The turn's audio: the preroll, both stretches of speech and the pause between them.
    speech = np.round(confirm.audio[::FRAME], 1)
    assert (speech == 0.9).sum() == round(1.3 / FRAME_S)
    assert speech[0] == 0.0  # (the preroll leads it)
    assert confirm.end_s == pytest.approx(0.5 + 0.8 + 0.2 + 0.5, abs=2 * FRAME_S)


def test_a_whole_sentence_ends_the_turn_after_a_shorter_silence():
    """Once the words drafted at the pause make a whole sentence, the turn ends after
    the shorter hangover; speech that resumes brings the usual one back."""

    def silence_to_end(listener, whole: bool, resume: bool = False) -> float:
        feed = Feed(listener)
        feed(0.9, 0.6)
        feed(0.0, 0.1)  # the pause: a draft
        if resume:
            feed(0.9, 0.3)
            feed(0.0, 0.1)
        if whole:
            listener.complete()
        start = feed.t
        while not any(type(a).__name__ == "Confirm" for a in feed(0.0)):
            pass
        return feed.t - start + 0.1

    quick = silence_to_end(_listener(), whole=True)
    usual = silence_to_end(_listener(), whole=False)
    assert quick == pytest.approx(0.256, abs=FRAME_S) and usual == pytest.approx(0.416, abs=FRAME_S)
    listener = _listener()
    feed = Feed(listener)
    feed(0.9, 0.6)
    feed(0.0, 0.1)
    listener.complete()
    feed(0.9, 0.3)  # the user went on: the usual hangover again
    assert silence_to_end(listener, whole=False) == pytest.approx(0.416, abs=2 * FRAME_S)


def test_a_blip_too_short_to_be_speech_starts_nothing():
    feed = Feed(_listener())
    feed(0.0, 0.3)
    assert feed(0.9, FRAME_S * 2) + feed(0.0, 1.0) == []


def test_speech_that_may_be_echo_is_held_and_judged_at_its_pause():
    listener = _listener(partial_every_s=0.1)
    feed = Feed(listener, echo_possible=True, speaker_busy=True, replying=True)
    feed(0.0, 0.5)
    start = feed(0.9, 0.4)
    assert kinds(start) == ["Duck", "SpeechStart"]
    assert start[-1].held and start[-1].barge and start[-1].interrupt
    paused = feed(0.1, 0.2)
    assert kinds(paused) == ["Hold"] and not paused[0].final
    assert not any(type(a).__name__ == "Partial" for a in feed.actions)  # (none of echo)
    assert kinds(feed(0.0, 1.0)) == ["EndHeld"]
    assert not listener.holding
    # Not speculative: held speech is judged when it ends.
    feed = Feed(_listener(speculative=False), echo_possible=True)
    feed(0.9, 0.4)
    ended = feed(0.0, 1.0)
    assert kinds(ended) == ["Hold"] and ended[0].final


def test_held_speech_found_to_be_the_users_goes_on_as_theirs():
    listener = _listener()
    feed = Feed(listener, echo_possible=True)
    feed(0.9, 0.4)
    feed(0.1, 0.2)  # held at the pause; the engine's verdict: the user
    assert kinds(feed(0.9, 0.3)) == ["Abandon"]
    listener.trust()
    assert kinds(feed(0.0, 1.0)) == ["Draft", "Confirm"]


def test_playback_ducks_at_a_likely_barge_in_and_comes_back_when_it_was_not_speech():
    feed = Feed(_listener(duck_s=0.25), speaker_busy=True)
    assert kinds(feed(0.9, FRAME_S)) == ["Duck"]
    assert kinds(feed(0.0, 0.5)) == ["Unduck"]
    # No ducking while held speech waits for its verdict (playback is paused anyway).
    assert feed(0.9, FRAME_S, held_pending=True) == []


def test_push_to_talk_takes_what_is_said_while_the_button_is_down():
    listener = _listener(hands_free=False)
    feed = Feed(listener)
    feed(0.2, 0.5, ptt=False)
    assert kinds(feed(0.5, FRAME_S, ptt=True)) == ["SpeechStart"]
    feed(0.6, 1.0, ptt=True)
    released = feed(0.1, FRAME_S, ptt=False)
    assert kinds(released) == ["Confirm"]
    levels = {round(float(x), 1) for x in released[0].audio[::FRAME]}
    assert {0.5, 0.6} <= levels and 0.1 not in levels


def test_partial_transcripts_only_while_speech_is_strong_and_the_recogniser_is_free():
    feed = Feed(_listener(partial_every_s=0.5))
    feed(0.0, 0.3)
    strong = feed(0.9, 1.2)
    assert [type(a).__name__ for a in strong].count("Partial") == 2
    assert not any(type(a).__name__ == "Partial" for a in feed(0.9, 1.2, recogniser_idle=False))
    assert not any(type(a).__name__ == "Partial" for a in feed(0.5, 1.2))  # trailing off


@pytest.mark.parametrize("trace", sorted(TRACES.glob("*.jsonl")), ids=lambda p: p.stem)
def test_recorded_traces_replay_to_the_same_actions(trace):
    """What the Listener did live, in the engine, it does again from the recorded inputs
    alone (tests/event_order.py records them)."""
    from vistavox.pipelines.conversation.listener import Heard

    listener = _listener()
    silence = np.zeros(FRAME, np.float32)
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    assert any(line.get("actions") for line in lines), "an empty trace"
    for line in lines:
        if line.get("trust"):
            listener.trust()
            continue
        if line.get("complete"):
            listener.complete()
            continue
        actions = listener.push(
            Heard(
                silence,
                silence,
                silence,
                line["t"],
                line["p"],
                line["rp"],
                speaker_busy=line["busy"],
                replying=line["replying"],
                held_pending=line["held_pending"],
                echo_possible=line["echo_possible"],
                echo_free=line["echo_free"],
                recogniser_idle=line["idle"],
            )
        )
        assert [describe(a) for a in actions] == line["actions"], line["t"]
