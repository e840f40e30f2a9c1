"""When turns are paged out of the middle of the prompt, the cache is shifted instead of
read again: the plan (pure), and the real model answering from a shifted cache."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vistavox.pipelines.kernel.cache_shift import plan_cache_shift

_TOKENS = st.lists(st.integers(0, 50), max_size=40)


def test_the_paged_out_turns_are_dropped_and_the_rest_reused():
    system, old_turns, kept, last = [1] * 30, list(range(100, 180)), list(range(200, 300)), [7]
    cached = system + old_turns + kept + [8, 9]  # the previous turn's reply at the end
    plan = plan_cache_shift(cached, system + kept + last)
    assert (plan.start, plan.removed, plan.kept) == (30, 80, 100)


def test_nothing_is_shifted_when_little_would_be_reused():
    cached = [1, 2, 3] + list(range(10, 30)) + list(range(40, 60))
    assert plan_cache_shift(cached, [1, 2, 3] + list(range(40, 60)), min_reused=64) is None
    assert plan_cache_shift([1, 2, 3], [1, 2, 3, 4]) is None  # the prefix does it all
    assert plan_cache_shift([], [1, 2]) is None


@given(prefix=_TOKENS, dropped=_TOKENS, kept=_TOKENS, old_tail=_TOKENS, new_tail=_TOKENS)
def test_a_plan_only_reuses_tokens_the_new_prompt_has_where_it_has_them(
    prefix, dropped, kept, old_tail, new_tail
):
    cached, wanted = prefix + dropped + kept + old_tail, prefix + kept + new_tail
    plan = plan_cache_shift(cached, wanted, min_reused=1)
    if plan is None:
        return
    assert cached[: plan.start] == wanted[: plan.start]
    moved = cached[plan.start + plan.removed : plan.start + plan.removed + plan.kept]
    assert moved == wanted[plan.start : plan.start + plan.kept]
    assert plan.kept >= 1 and plan.removed >= 1


@given(prefix=_TOKENS, dropped=st.lists(st.integers(0, 50), min_size=1, max_size=40))
def test_a_span_taken_out_is_found_with_all_that_follows_it(prefix, dropped):
    kept = list(range(1000, 1100))  # (tokens the dropped span never has)
    plan = plan_cache_shift(prefix + dropped + kept, prefix + kept)
    assert (plan.start, plan.removed, plan.kept) == (len(prefix), len(dropped), len(kept))


def test_turns_paged_out_are_not_read_again_and_the_answer_still_knows_the_rest(
    tool_llm, monkeypatch
):
    """The real model: after the oldest turns leave the prompt, only the new question is
    read, and what the user said in the turns kept is still known."""
    llama = tool_llm._llama
    system = {"role": "system", "content": "You are a helpful assistant. Answer briefly."}
    older = []
    for city in ("Oslo", "Cairo", "Lima"):
        older += [
            {"role": "user", "content": f"What is the weather like in {city} in winter?"},
            {
                "role": "assistant",
                "content": f"Winter in {city} has its own weather: temperatures, rain and "
                "daylight differ from the summer months, so pack for the season and check "
                "the forecast a few days before you travel.",
            },
        ]
    kept = [
        {"role": "user", "content": "My name is Ada and I live in Lisbon."},
        {"role": "assistant", "content": "Nice to meet you, Ada! Lisbon is a lovely city."},
        {"role": "user", "content": "I am planning a trip to the mountains next month."},
        {
            "role": "assistant",
            "content": "A mountain trip sounds great. Bring warm layers, good boots and "
            "water, and tell someone your route before you set off.",
        },
    ]
    question = {"role": "user", "content": "What is my name?"}
    before = {"role": "user", "content": "Any tips for packing?"}
    "".join(tool_llm.stream_chat([system, *older, *kept, before], max_tokens=8))

    read: list[int] = []
    evaluate = llama.eval
    monkeypatch.setattr(llama, "eval", lambda tokens: read.append(len(tokens)) or evaluate(tokens))
    reused_before = llama.reused_by_shift
    answer = "".join(tool_llm.stream_chat([system, *kept, question], max_tokens=16, temperature=0))

    prompt_tokens = tool_llm.chat_prompt_tokens([system, *kept, question])
    assert llama.reused_by_shift - reused_before > prompt_tokens // 2
    assert sum(read) < 40  # the question and its few template tokens, not the kept turns
    assert "Ada" in answer
