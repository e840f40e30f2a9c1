"""The output guard (``ReplyGuard``, ``GuardedOutput``, ``clean``) on any reply, streamed in
any pieces: the prompt's own text (data-block delimiters and keys, special tokens, the tool
protocol's JSON, "the user asks…") never reaches the user, not even its first characters
while the rest is still being written, whatever the spacing, case or line breaks; what is
kept has none of it and no claim of an action nobody took; and judging never fails, on very
long replies, control characters, right-to-left and combining characters."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz import counted, fuzz
from vistavox.pipelines.kernel.guard import _CLAIMS, _LEAK, ReplyGuard, clean, usable
from vistavox.pipelines.kernel.streams import GuardedOutput, StopSignal

SPACES = st.sampled_from([" ", "  ", "\n", "\t", " \n ", "\u00a0"])
MARKERS = st.sampled_from(
    [
        "<<<DATA key=0a1b2c3d4e5f>>>", "<<<END DATA key=0a1b2c3d4e5f>>>", "<|im_start|>",
        "<|im_end|>", "<|start_header_id|>", "<|reserved_special_token_247|>", "</tool_call>",
        "<tool_call>", '{"tool": "calculator"}', '{"answer": "4"}', "{\n  \"tool\": \"x\"}",
        "The user asks", "the user wants", "Tool result", "Security rules",
        "Reply with exactly", "[insert your name here]", "key=abcdef0123",
        "I've set a timer", "The timer is set.", "I'll remind you", "I've noted that",
    ]
)  # fmt: skip
WORDS = st.sampled_from(
    ["Sure,", "the", "answer", "is", "42.", "user", "asks", "data", "key", "{", "}", '"tool"',
     ":", "<", "|", ">", "tool", "result", "e\u0301", "\u202eevil", "مرحبا", "\x00", "…"]
)  # fmt: skip


@st.composite
def replies(draw) -> str:
    """A reply mixing ordinary words, the prompt's markers and the markers' pieces, with
    the markers' spaces changed (a model writes ``{\\n "tool"`` as easily as ``{"tool"``)."""
    parts = draw(st.lists(st.one_of(WORDS, MARKERS, st.text(max_size=6)), max_size=30))
    text = ""
    for part in parts:
        if draw(st.booleans()):
            part = re.sub(r" ", lambda _: draw(SPACES), part)
        text += part + draw(SPACES)
    return text


@st.composite
def pieces(draw, text: str) -> list[str]:
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=12)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


@fuzz(300)
@given(st.data())
@counted
def test_prompt_text_is_never_shown_even_in_part(data):
    text = data.draw(replies())
    parts = data.draw(pieces(text))
    shown: list[str] = []
    out = GuardedOutput(ReplyGuard(), shown.append, StopSignal(None))
    for part in parts:
        out.feed(part)
        if out.stop.is_set():
            break
    kept, reason = out.finish()
    leak = _LEAK.search(text)
    if leak is not None:
        assert out.shown <= leak.start(), (
            f"shown {text[: out.shown]!r} reaches into {leak.group(0)!r}"
        )
    assert _LEAK.search(kept) is None, f"kept {kept!r}"
    for kind, claim in _CLAIMS.items():
        assert claim.search(kept) is None, f"kept an unbacked {kind} claim: {kept!r}"
    assert "".join(shown).strip() == text[: out.shown].strip()


@fuzz(200)
@given(
    st.text(max_size=3000),
    st.lists(st.text(max_size=200), max_size=3),
    st.lists(st.text(max_size=200), max_size=3),
    st.text(max_size=100),
    st.booleans(),
)
@example("word " * 20_000, ["word " * 50], ["word " * 50], "word", True)  # a long loop
@example("\u202e\u0301" * 5000, [], [], "", True)
@counted
def test_judging_any_reply_never_fails(text, prompt, earlier, question, final):
    guard = ReplyGuard(prompt, earlier, question=question)
    verdict = guard.judge(text, final=final)
    assert 0 <= verdict.safe <= len(text)
    assert isinstance(clean(text[: verdict.safe]), str)
    assert usable(text) in (True, False)


@fuzz(100)
@given(st.text(max_size=400))
@counted
def test_a_reply_judged_whole_agrees_with_itself(text):
    """Replaying a recorded reply gives the same verdict (the guard is pure)."""
    guard = ReplyGuard(["You are a helpful assistant. Answer briefly."], ["An earlier answer."])
    assert guard.judge(text, final=True) == guard.judge(text, final=True)


@pytest.mark.parametrize(
    "parts",
    [
        ["Sure, Sure, [", "insert your name here] "],  # a template's blank began on screen
        ["Here: {\n", '  "tool', '": "calculator"}'],  # pretty-printed tool JSON
        ["I think the\n", "user asks for a sum"],  # the marker with another space
        ["<|reserved_special_", "token_247|>"],  # a special token with digits
        ["The answer. <|start_header", "_id|>assistant"],
    ],
)
def test_markers_found_by_fuzzing_are_never_shown_in_part(parts):
    shown: list[str] = []
    out = GuardedOutput(ReplyGuard(), shown.append, StopSignal(None))
    for part in parts:
        out.feed(part)
    kept, reason = out.finish()
    text = "".join(parts)
    leak = _LEAK.search(text)
    assert leak is not None and reason
    assert len("".join(shown)) <= leak.start() and _LEAK.search(kept) is None


def test_a_long_reply_without_full_stops_is_judged_in_linear_time():
    """Found by fuzzing: sentences were searched from every character (100 000 characters
    without an end mark: 90 s per judgement, and the guard judges every streamed piece).
    Counted in regex steps, not timed: the guard must see each sentence start once."""
    from vistavox.pipelines.kernel import guard

    text = "word " * 20_000
    starts = [m.start() for m in guard._SENTENCE.finditer(text + ".")]
    assert starts == [0]
    assert guard._sentences(text) == []
