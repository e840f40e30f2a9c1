"""The engine's worker stages keep going when a job fails: the failure is reported, the
turn is let go, and the next job is done (a stage thread that died would leave the user
talking to nobody)."""

from __future__ import annotations

import threading
import time

import numpy as np


def test_a_failing_job_is_reported_and_the_transcriber_goes_on():
    from vistavox.pipelines.conversation.echo_judge import EchoJudge
    from vistavox.pipelines.conversation.stages import TranscribeStage
    from vistavox.pipelines.conversation.turns import Turn
    from vistavox.pipelines.events import EngineError

    class Words:
        text = "hello there"

    class Recogniser:
        def transcribe(self, audio, hint=None):
            return Words()

    heard, failed, published = [], [], []
    done = threading.Event()

    def on_words(turn, text):
        if turn.id == 1:
            raise RuntimeError("deque mutated during iteration")  # (seen in the old loop)
        heard.append((turn.id, text))
        done.set()

    stage = TranscribeStage(
        Recogniser(),
        EchoJudge(lambda audio, hint: "", echo_gate_db=-45.0),
        hint=lambda: None,
        on_words=on_words,
        on_failed=lambda turn: failed.append(turn.id),
        publish=published.append,
    )
    stage.start()
    try:
        for turn_id in (1, 2):
            stage.final(Turn(turn_id, np.ones(1600, np.float32), 0.0, time.monotonic()))
        assert done.wait(30)
    finally:
        stage.stop()
    assert heard == [(2, "hello there")] and failed == [1]
    errors = [e for e in published if isinstance(e, EngineError)]
    assert errors and "deque mutated" in errors[0].message
