"""Paging the conversation out of the context window keeps the prompt's start where it was
for as many turns as it can: the model then reuses what it has read instead of reading the
whole history again (with a 1.5B model on two cores, about 13 s a turn). Pure: the planner
with a word counter, no model."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vistavox.pipelines.kernel.context import MESSAGE_OVERHEAD, TurnMessage, plan_context

WINDOW = 600
RESERVE = 60


def _count(text: str) -> int:
    return len(text.split())


def _plan(history: list[TurnMessage], current: str = "And now?"):
    return plan_context(
        count=_count,
        context_tokens=WINDOW,
        reply_reserve=RESERVE,
        system="You are a helpful assistant.",
        history=history,
        current=current,
    )


def _exchange(i: int, words: int = 12) -> list[TurnMessage]:
    return [
        TurnMessage(2 * i + 1, "user", f"question {i} " + "word " * words),
        TurnMessage(2 * i + 2, "assistant", f"answer {i} " + "word " * words),
    ]


def _first_kept(plan) -> str:
    return plan.messages[1]["content"]


def test_the_prompt_start_stays_put_turn_after_turn_once_the_window_is_full():
    history: list[TurnMessage] = []
    starts = []
    for i in range(60):
        # Questions of different lengths: the start must not move with them either.
        plan = _plan(history, current="tell me " + "more " * (i % 7))
        if plan.paged_out:
            starts.append(_first_kept(plan))
        history += _exchange(i)
    assert len(starts) > 30, "the window never filled: nothing was tested"
    changes = sum(a != b for a, b in zip(starts, starts[1:], strict=False))
    # The old planner moved the start on every turn once it paged (40+ changes here).
    assert changes <= len(starts) // 5, f"the start moved {changes} times in {len(starts)} turns"


def test_nothing_is_paged_out_while_everything_fits():
    plan = _plan(_exchange(0) + _exchange(1))
    assert not plan.paged_out
    assert len(plan.messages) == 6


@settings(max_examples=200, deadline=None)
@given(
    lengths=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=60),
    current=st.integers(min_value=0, max_value=300),
)
def test_any_history_fits_the_window_and_keeps_the_newest_turn(lengths, current):
    history = []
    for i, n in enumerate(lengths):
        role = "user" if i % 2 == 0 else "assistant"
        history.append(TurnMessage(i + 1, role, f"m{i} " + "w " * n))
    plan = _plan(history, current="q " * current)
    used = sum(_count(m["content"]) + MESSAGE_OVERHEAD for m in plan.messages)
    assert used + RESERVE <= WINDOW
    kept = [m for m in history if m not in plan.paged_out]
    assert kept == history[len(plan.paged_out) :], "the paged-out turns are not the oldest"
