"""The everyday-intent parser and its answers (``recognise``, ``IntentHandler``) on any text:
arbitrary strings, very long messages, control, right-to-left and combining characters, and
sentences built from the grammar's own words with numbers of any size ("a trillion trillion
to the power of 99", "0.000001 percent of nine"), units, dates and timers. Each is None (the
model answers) or a non-empty reply, and a kept answer's action (a timer) is made or refused
clearly; sums the intent reads whole are exact."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz import counted, fuzz
from vistavox.pipelines.intents import recognise
from vistavox.pipelines.intents.handler import IntentHandler
from vistavox.pipelines.intents.timers import TimerBook
from vistavox.pipelines.kernel.store import Store

NOW = datetime(2026, 3, 1, 9, 4, tzinfo=timezone(timedelta(hours=-5)))
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.integers(0, 10**400).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=6).map(str),
    st.sampled_from(
        ["zero", "a", "one", "twelve", "a hundred", "a billion trillion", "nine hundred and "
         "ninety-nine thousand", "half", "a quarter", "pi", "1e308", "0.0", "-0", "1,000,000",
         "١٢٣", "⅞", "Ⅻ", "NaN", "inf"]
    ),
)  # fmt: skip
OPERATORS = st.sampled_from(
    ["plus", "minus", "times", "divided by", "to the power of", "^", "**", "percent of", "%",
     "squared", "cubed", "over", "mod", "factorial", "x", "*", "/", "+", "-"]
)  # fmt: skip
UNITS = st.sampled_from(
    ["kilos", "pounds", "cups", "ml", "miles", "km", "fahrenheit", "celsius", "kelvin", "inches",
     "square feet", "acres", "seconds", "years", "light years", "parsecs", "bytes", "mph"]
)  # fmt: skip
TEMPLATES = st.sampled_from(
    ["what is {n} {op} {n}", "what's {n} {op} {n} {op} {n}", "{n} {op} {n}",
     "the square root of {n}", "the average of {n}, {n} and {n}", "{n}% off ${n}",
     "convert {n} {u} to {u}", "how many {u} are in {n} {u}", "set a timer for {n} {u}",
     "set a {w} timer for {n} minutes", "cancel the {w} timer", "how long is left on my timer",
     "what's the date in {n} days", "what's the date next {w}", "spell {w}", "what time is it",
     "add {n} to {n} plus {n}", "{n} shirts at ${n} each", "cancel all timers"]
)  # fmt: skip
WORDS = st.text(min_size=1, max_size=12)


@st.composite
def requests(draw) -> str:
    template = draw(TEMPLATES)
    out = []
    for piece in template.split(" "):
        for slot, strategy in (("{n}", NUMBERS), ("{op}", OPERATORS), ("{u}", UNITS),
                               ("{w}", WORDS)):  # fmt: skip
            while slot in piece:
                piece = piece.replace(slot, draw(strategy), 1)
        out.append(piece)
    return " ".join(out)


TEXTS = st.one_of(
    requests(),
    st.text(max_size=200),
    st.builds(lambda r, junk: r + junk, requests(), st.text(max_size=10)),
    st.builds(lambda n: "what is " + " plus ".join(["1"] * n), st.integers(1, 5000)),
    st.builds(lambda n: "a" * n, st.integers(0, 100_000)),
)


@pytest.fixture(scope="module")
def handler(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("intents") / "timers.db")
    yield IntentHandler(TimerBook(store), clock=lambda: NOW)
    store.close()


@fuzz(400)
@given(TEXTS)
@example("what is 10 to the power of 10 to the power of 10 to the power of 10")
@example("what is 9 factorial factorial factorial")
@example("set a timer for 1e308 seconds")
@example("what's the date in 1000000000000 days")
@example("what is 1" + " plus 1" * 4999)
@example("what is " + "1" * 400 + " / 7")  # float() of the quotient overflowed
@example("what's the date in 2912384 days")  # past the year 9999
@example("convert " + "3" * 320 + " kilos to pounds")  # float() of the amount overflowed
@example("9" * 320 + "% off $5")  # float() of the percentage overflowed
@example("\u202e\u0301" * 10_000)
@counted
def test_any_text_is_answered_exactly_or_left_to_the_model(handler, text):
    reply = handler.handle(text)
    if reply is None:
        return
    assert isinstance(reply.text, str) and reply.text.strip()
    assert len(reply.text) < 2000, f"a {len(reply.text)}-character answer"
    if reply.commit is not None:
        reply.commit()  # sets or cancels timers: made, or refused in the reply already


@fuzz(200)
@given(st.integers(0, 10**9), st.sampled_from(["plus", "times", "minus"]), st.integers(0, 10**9))
@counted
def test_sums_read_whole_are_exact(a, op, b):
    intent = recognise(f"what is {a} {op} {b}")
    assert intent is not None
    expected = {"plus": a + b, "times": a * b, "minus": a - b}[op]
    reply = IntentHandler(None, clock=lambda: NOW).handle(f"what is {a} {op} {b}")
    if abs(expected) < 10**18:
        assert f"{expected:,}" in reply.text.replace("−", "-"), (reply.text, expected)
    else:  # said in scientific notation, by design
        assert "× 10^18" in reply.text, reply.text


LABELS = st.sampled_from(["China", "USA", "North", "Coffee", "Ink & paper", "Σ", "يوم", "Grey cat"])
AMOUNTS = st.one_of(
    st.integers(0, 10**12).map(lambda n: f"{n:,}"),
    st.decimals(0, 10**6, places=2).map(str),
)


@fuzz(300)
@given(st.text(max_size=300), st.text(max_size=300))
@example("the sum is " + "1," * 5000, "A 1 " * 20_000)
@example("total " * 20_000 + "is 5", "x 1 y 2 z 3")
@counted
def test_any_reply_and_data_keep_their_words_when_totals_are_checked(reply, data):
    from vistavox.pipelines.intents.totals import correct_totals

    checked = correct_totals(reply, data)
    assert isinstance(checked, str)
    if "sum" not in reply.lower() and "total" not in reply.lower() and "add" not in reply:
        assert checked == reply


@fuzz(200)
@given(st.lists(st.tuples(LABELS, AMOUNTS), min_size=3, max_size=30), st.integers(0, 10**13))
@counted
def test_a_stated_total_of_a_table_is_one_its_numbers_make(rows, stated):
    from fractions import Fraction

    from vistavox.pipelines.intents.totals import correct_totals, number_lists

    table = "\n".join(f"{label} | {amount}" for label, amount in rows)
    [numbers] = number_lists(table)
    assert numbers.total == sum(Fraction(a.replace(",", "")) for _, a in rows)
    checked = correct_totals(f"The total is {stated}.", table)
    said = Fraction(checked.removeprefix("The total is ").rstrip(".").replace(",", ""))
    assert numbers.agrees(said, Fraction(0)), (checked, float(numbers.total))
