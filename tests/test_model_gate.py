"""The model is shared: a request someone waits for (a turn) goes before background work (a
summary, warming the cache), and background work stops at its next step when one arrives."""

from __future__ import annotations

import threading

import pytest

from vistavox.pipelines.kernel.model_gate import ModelGate

WAIT_S = 30.0  # generous: these waits end at once unless the gate is broken


def test_background_work_waits_while_a_request_holds_the_model():
    gate = ModelGate()
    order: list[str] = []
    with gate.foreground():
        worker = threading.Thread(target=_background, args=(gate, order))
        worker.start()
        worker.join(0.2)
        order.append("foreground done")
    worker.join(WAIT_S)
    assert order == ["foreground done", "background ran"]


def test_a_waiting_request_is_seen_by_running_background_work_and_goes_next():
    gate = ModelGate()
    order: list[str] = []
    asked = threading.Event()

    def request() -> None:
        asked.set()
        with gate.foreground():
            order.append("request ran")

    with gate.background():
        assert not gate.wanted()
        requester = threading.Thread(target=request)
        requester.start()
        asked.wait(WAIT_S)
        _wait_until(gate.wanted)
        assert gate.wanted(), "the background work cannot tell it should stop"
        order.append("background stopped")
    requester.join(WAIT_S)
    assert order == ["background stopped", "request ran"]
    assert not gate.wanted()


def test_background_work_queued_behind_a_request_does_not_jump_a_second_request():
    gate = ModelGate()
    order: list[str] = []
    first = gate.foreground()
    first.__enter__()
    background = threading.Thread(target=_background, args=(gate, order))
    background.start()
    second = threading.Thread(target=_foreground, args=(gate, order))
    second.start()
    _wait_until(lambda: gate._waiting == 2)  # the first request and the second, waiting
    first.__exit__(None, None, None)
    second.join(WAIT_S)
    background.join(WAIT_S)
    assert order == ["foreground ran", "background ran"]


def _background(gate: ModelGate, order: list[str]) -> None:
    with gate.background():
        order.append("background ran")


def _foreground(gate: ModelGate, order: list[str]) -> None:
    with gate.foreground():
        order.append("foreground ran")


def _wait_until(condition) -> None:
    done = threading.Event()
    for _ in range(int(WAIT_S / 0.005)):
        if condition():
            return
        done.wait(0.005)


def test_background_reading_of_a_long_prompt_stops_between_steps_and_keeps_its_progress(llm):
    """The real model: background work reading a long prompt stops within a step once a
    request is waiting, and what it read stays in the cache."""
    from vistavox.pipelines.kernel.model_gate import Preempted

    llama = llm._llama
    tokens = llama.tokenize(("The quick brown fox jumps over the lazy dog. " * 60).encode())
    checks = iter([False, False, False, True])
    llama.reset()
    llama.stop_check = lambda: next(checks)
    try:
        with pytest.raises(Preempted):
            llama.eval(tokens)
    finally:
        llama.stop_check = None
    assert len(tokens) > 4 * llama.STEP_TOKENS
    assert llama.n_tokens == 3 * llama.STEP_TOKENS  # three steps read, then it stopped
    # The model still answers properly afterwards.
    reply = "".join(llm.stream_chat([{"role": "user", "content": "Say hello."}], max_tokens=12))
    assert reply.strip()


def test_closing_stops_background_work_and_refuses_more():
    """As the app ends: running background work is told to stop, and none starts after."""
    from vistavox.pipelines.kernel.model_gate import Preempted

    gate = ModelGate()
    stopped = threading.Event()
    inside = threading.Event()

    def work() -> None:
        with gate.background():
            inside.set()
            _wait_until(gate.wanted)
            stopped.set()

    worker = threading.Thread(target=work)
    worker.start()
    assert inside.wait(WAIT_S)
    gate.close(timeout_s=WAIT_S)
    assert stopped.is_set(), "close returned while background work still ran"
    with pytest.raises(Preempted), gate.background():
        pass
    worker.join(WAIT_S)
