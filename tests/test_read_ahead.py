"""What the model has cached for a conversation stays for its next turn: a prompt read ahead
on the model's second context is handed to the main one, and the turn after reads only its
question; a spoken turn that comes first, or an answer asked again without the history,
leaves the conversation's prompt cached; the second context reads on every core when someone
waits for it; a reply's native memory is freed by the model's thread (with the real model)."""

from __future__ import annotations

from pathlib import Path

import pytest

SYSTEM = {
    "role": "system",
    "content": "You are a helpful assistant. Answer briefly. The user's name is Ada and she "
    "lives in Lisbon. " + "She likes long walks by the river and old trams. " * 6,
}
QUESTION = {"role": "user", "content": "What is my name?"}


def _anonymous_mb() -> float:
    status = Path("/proc/self/status")
    if not status.is_file():
        pytest.skip("no /proc/self/status here")
    line = next(x for x in status.read_text().splitlines() if x.startswith("RssAnon:"))
    return int(line.split()[1]) / 1024


def test_the_second_context_answers_alike_and_costs_its_cache_not_a_second_model():
    """Background work gets a context of its own on the loaded weights: it answers as the
    main one does, and it adds its cache to the app's memory, not another copy of the
    model (loading the file again added 100 MB for the 0.5B and 780 MB for the 1.5B)."""
    from tests.conftest import TOOL_MODEL, user_model
    from vistavox.pipelines.kernel.local_llm import LocalLlm

    llm = LocalLlm(user_model(TOOL_MODEL))
    messages = [SYSTEM, QUESTION]
    main = "".join(llm.stream_chat(messages, max_tokens=12, temperature=0))
    before = _anonymous_mb()
    second = "".join(llm.stream_chat(messages, max_tokens=12, temperature=0, scratch=True))
    grown = _anonymous_mb() - before
    assert second == main and "Ada" in second
    assert grown < 60, f"the second context added {grown:.0f} MB"


def _counting_reads(llm, monkeypatch) -> list[int]:
    """Tokens the main context reads from here on, one entry per read."""
    llama, read = llm._llama, []
    evaluate = llama.eval
    monkeypatch.setattr(llama, "eval", lambda tokens: read.append(len(tokens)) or evaluate(tokens))
    return read


def test_a_prompt_read_ahead_is_handed_over_and_only_the_question_is_read(tool_llm, monkeypatch):
    other = [{"role": "system", "content": "Something else entirely."}, QUESTION]
    "".join(tool_llm.stream_chat(other, max_tokens=1))  # the main context holds another
    assert tool_llm.read_ahead([SYSTEM, {"role": "user", "content": "Hello."}])

    read = _counting_reads(tool_llm, monkeypatch)
    answer = "".join(tool_llm.stream_chat([SYSTEM, QUESTION], max_tokens=16, temperature=0))
    assert sum(read) - (len(read) - 1) < 30  # the question (replies are read a token at a time)
    assert tool_llm.chat_prompt_tokens([SYSTEM, QUESTION]) > 100
    assert "Ada" in answer  # what was handed over is the prompt, not noise


def test_nothing_is_handed_over_when_a_turn_used_the_model_meanwhile(tool_llm, monkeypatch):
    turn = [{"role": "system", "content": "You answer in one word."}, QUESTION]
    stream_chat = tool_llm.stream_chat

    def turn_first(messages, **options):
        if options.get("scratch"):  # a turn comes while the second context reads
            "".join(stream_chat(turn, max_tokens=1))
        return stream_chat(messages, **options)

    monkeypatch.setattr(tool_llm, "stream_chat", turn_first)
    assert not tool_llm.read_ahead([SYSTEM, {"role": "user", "content": "Hello."}])
    monkeypatch.setattr(tool_llm, "stream_chat", stream_chat)

    read = _counting_reads(tool_llm, monkeypatch)
    "".join(tool_llm.stream_chat([*turn, {"role": "user", "content": "Why?"}], max_tokens=1))
    assert sum(read) < tool_llm.chat_prompt_tokens(turn)  # its prompt was still cached


@pytest.fixture
def spoken_conversation(tool_llm, tmp_path):
    """A voice kernel with a stored conversation longer than the window, its prompt read."""
    from vistavox.pipelines.conversation.voice_kernel import voice_kernel
    from vistavox.pipelines.kernel.store import Store

    store = Store(tmp_path / "conversations.db")
    kernel = voice_kernel(tool_llm, store)
    conversation = kernel.start_conversation()
    for i in range(40):
        kernel.record_exchange(
            conversation,
            f"Question {i}: what is the weather like in town today?",
            f"Answer {i}: the weather in town is fine today, with sun and a light breeze "
            "from the west, and it will stay like that until the evening.",
            interrupted=False,
            summarise_in_background=False,
        )
    kernel.warm_up(conversation)
    yield kernel, store, conversation
    store.close()


def test_a_new_summary_waits_for_its_hand_over_and_no_spoken_turn_reads_it_all(
    spoken_conversation, tool_llm, monkeypatch
):
    """A summary written in the background changes the prompt near its start. The spoken
    turns before it has been read ahead keep the prompt the model has cached; the turn
    after the hand-over has the summary; neither reads the conversation again."""
    kernel, store, conversation = spoken_conversation
    plan = kernel.plan(conversation, "Hello.")
    assert plan.paged_out
    summary = "The user, whose name is Ada, asked about the weather in town many times."
    store.add_summary(conversation, plan.paged_out[-1].id, summary)

    read = _counting_reads(tool_llm, monkeypatch)
    first = kernel.draft_answer(conversation, "Is it going to rain?")
    assert summary not in first.plan.messages[0]["content"]
    assert max(read) < 40, f"read {max(read)} tokens at once"

    kernel._hand_over_summary(conversation)
    read.clear()
    second = kernel.draft_answer(conversation, "What should I wear?")
    assert summary in second.plan.messages[0]["content"]
    assert max(read) < 40, f"read {max(read)} tokens at once"
    assert second.text.strip()


def test_an_answer_asked_again_without_the_history_leaves_the_conversation_cached(
    spoken_conversation, tool_llm, monkeypatch
):
    """When a reply is cut (it copied the prompt) and asked again without the history,
    that short prompt is read on the second context: the next turn still finds the whole
    conversation cached (read again, it cost the 1.5B up to 12 s before its first word)."""
    from vistavox.pipelines.kernel.untrusted import new_key

    kernel, _, conversation = spoken_conversation
    plan = kernel.plan(conversation, "Is it going to rain?")
    again = kernel._fresh_answer(plan, new_key(), [], kernel._guard(plan, []), None, None)
    assert again.strip()

    read = _counting_reads(tool_llm, monkeypatch)
    draft = kernel.draft_answer(conversation, "Is it going to rain?")
    assert max(read) < 40, f"read {max(read)} tokens at once"
    assert draft.text.strip()


def test_a_reply_asked_again_reads_on_every_core_and_background_work_on_one(tool_llm, monkeypatch):
    """The second context serves background work (on one thread, leaving a core to speech)
    and a reply asked again, which the user waits for: that one reads its prompt with the
    main context's threads (on one it took the 1.5B twice as long), then the second
    context is back on one thread."""
    import llama_cpp

    scratch = tool_llm._scratch_llama()
    seen: list[tuple[int, int]] = []
    evaluate = scratch.eval

    def counting(tokens):
        context = scratch._ctx.ctx
        seen.append((llama_cpp.llama_n_threads(context), llama_cpp.llama_n_threads_batch(context)))
        return evaluate(tokens)

    monkeypatch.setattr(scratch, "eval", counting)
    main = tool_llm._llama
    every_core = (main.n_threads, main.n_threads_batch)

    answer = "".join(tool_llm.stream_chat([SYSTEM, QUESTION], max_tokens=8, scratch=True))
    assert "Ada" in answer
    assert set(seen) == {every_core}

    seen.clear()
    other = {"role": "user", "content": "Where do I live?"}
    tool_llm.read_ahead([SYSTEM, other])
    assert set(seen) == {(1, 1)}


def test_a_finished_reply_leaves_nothing_for_the_collector_to_free_on_another_thread(tool_llm):
    """Each reply's sampler (llama.cpp memory behind a reference cycle) is freed by the
    model's own thread when the next reply starts: left to the garbage collector, it was
    freed on whichever thread allocated next, in a soak the window's, while it laid out a
    reply."""
    import gc

    from llama_cpp._internals import LlamaSampler

    def unfreed() -> int:
        return sum(1 for o in gc.get_objects() if isinstance(o, LlamaSampler) and o.sampler)

    gc.collect()
    gc.disable()
    try:
        before = unfreed()
        for question in ("What is my name?", "Where do I live?", "What do I like?"):
            messages = [SYSTEM, {"role": "user", "content": question}]
            "".join(tool_llm.stream_chat(messages, max_tokens=4))
        after = unfreed()
    finally:
        gc.enable()
    assert after <= before + 1  # the last reply's, freed when the next one starts
