"""The output guard: replies that copy the prompt, an earlier answer or claim an action nobody
took are cut before anyone sees or hears them; ordinary replies pass untouched."""

from __future__ import annotations

import threading

import pytest

from vistavox.pipelines.kernel.guard import ReplyGuard, Verdict, clean, usable
from vistavox.pipelines.kernel.streams import GuardedOutput, JsonAnswerStream, StopSignal

SYSTEM = (
    "You are Vistavox, a friendly, private assistant running entirely on the user's own "
    "computer. Be helpful, honest and brief. When you speak, reply in one to three short, "
    "complete sentences in plain words that sound natural aloud."
)

# Replies seen from the default install (issue 24), each with what must be left of it.
LEAKED = [
    (
        'The user asks, "What is 1000 plus 745?" The answer is: <<<END DATA key=e802ad7b351b>>',
        "",
    ),
    (
        "The user asks you to calculate 3 + 4. You answer it with the number 84, which is a "
        "result of multiplying two numbers together.",
        "",
    ),
    ('{"answer": "Paris"}', ""),
    ("Paris is the capital. <<<DATA key=0a1b2c3d4e5f source=x>>> hi", "Paris is the capital."),
    ('It is sunny today. {"tool": "calculator", "arguments": {}}', "It is sunny today."),
    ("Sure. <|im_end|>", "Sure."),
    ("Here you go. Tool result (allowed): 84", "Here you go."),
    ("Today's date is [insert current date here].", ""),
    ("It is sunny. The answer is: <<<END DATA key=0a1b2c3d4e5f>>>", "It is sunny."),
]


@pytest.mark.parametrize(("reply", "kept"), LEAKED)
def test_prompt_text_is_cut(reply: str, kept: str) -> None:
    guard = ReplyGuard([SYSTEM])
    verdict = guard.judge(reply, final=True)
    assert verdict.reason
    assert clean(reply[: verdict.safe]) == kept


OK_REPLIES = [
    "12 times 7 is 84.",
    "Paris is the capital of France.",
    "You're welcome! Let me know if you need anything else.",
    "I'm Vistavox, a private assistant. I can't browse the web.",
    "In Python, `>>> print(1)` prints 1.",
    "The key to good bread is patience.",
    "Here's a fun fact: the first cars had no steering wheel.",
    "I can't set timers myself in this answer, but you can say “set a 5 minute timer”.",
]


@pytest.mark.parametrize("reply", OK_REPLIES)
def test_ordinary_replies_pass_untouched(reply: str) -> None:
    verdict = ReplyGuard([SYSTEM]).judge(reply, final=True)
    assert verdict.reason == "" and verdict.safe == len(reply)


def test_a_run_of_the_system_prompt_is_a_quotation() -> None:
    reply = "Hello! Be helpful, honest and brief. When you speak, reply in one to three short."
    verdict = ReplyGuard([SYSTEM]).judge(reply, final=True)
    assert verdict.reason == "quotes the prompt"
    assert clean(reply[: verdict.safe]) == "Hello!"


def test_an_earlier_answer_to_another_question_is_not_repeated() -> None:
    earlier = ["12 times 7 is 84, which is the product of twelve and seven together."]
    guard = ReplyGuard([SYSTEM], earlier)
    assert guard.judge(
        "12 times 7 is 84, which is the product of twelve and seven together.", final=True
    ).reason
    assert guard.judge("Shakespeare wrote Hamlet around 1600.", final=True).reason == ""


@pytest.mark.parametrize(
    "claim",
    [
        "The timer is set to 3120 seconds.",
        "I've set a timer for 52 minutes.",
        "Okay, I set a 5 minute timer for you.",
        "Your reminder has been set.",
        "I've noted that your name is Ada.",
        "Sure, I'll let you know when it's been 5 minutes.",
        "The timer will go off in 1 hour.",
    ],
)
def test_claims_of_actions_nobody_took_are_cut(claim: str) -> None:
    verdict = ReplyGuard([SYSTEM]).judge("Sure thing. " + claim, final=True)
    assert verdict.reason.startswith("unbacked")
    assert verdict.safe == len("Sure thing.")


def test_a_claim_is_true_after_the_tool_that_makes_it_true() -> None:
    ran = ReplyGuard([SYSTEM], tools_run=lambda: {"remember"})
    assert ran.judge("I've noted that your name is Ada.", final=True).reason == ""


def test_streaming_holds_back_a_marker_until_it_is_known() -> None:
    """The delimiter arrives token by token: none of it is ever shown."""
    shown: list[str] = []
    stop = StopSignal(threading.Event())
    out = GuardedOutput(ReplyGuard([SYSTEM]), shown.append, stop)
    reply = "Paris is the capital of France. <<<END DATA key=e802ad7b351b>>> and more words"
    for i in range(0, len(reply), 3):
        out.feed(reply[i : i + 3])
        if stop.is_set():
            break
    kept, reason = out.finish()
    assert stop.is_set() and not stop.by_user, "generation stops at the cut"
    assert kept == "Paris is the capital of France."
    assert "<" not in "".join(shown) and "key" not in "".join(shown)
    assert reason == "prompt text"


def test_streaming_shows_a_clean_reply_whole() -> None:
    shown: list[str] = []
    out = GuardedOutput(ReplyGuard([SYSTEM]), shown.append, StopSignal(None))
    reply = "Shakespeare wrote Hamlet around the year 1600, in London."
    for word in reply.split(" "):
        out.feed(word + " ")
    assert out.finish() == (reply, "")
    assert "".join(shown).strip() == reply


def test_json_answer_streams_its_text_decoded() -> None:
    got: list[str] = []
    stream = JsonAnswerStream(got.append)
    raw = '{"answer": "He said \\"hi\\" \\u00e9t\\u00e9\\nbye"}'
    for char in raw:
        stream.feed(char)
    assert "".join(got) == 'He said "hi" été\nbye'
    assert stream.closed


def test_json_tool_call_streams_nothing() -> None:
    got: list[str] = []
    stream = JsonAnswerStream(got.append)
    stream.feed('{"tool": "calculator", "arguments": {"expression": "2 + 2"}}')
    assert got == [] and not stream.closed


def test_usable_needs_two_words() -> None:
    assert not usable("") and not usable("The") and usable("Paris, France.")


def test_a_reply_that_only_says_the_question_back_is_not_an_answer() -> None:
    guard = ReplyGuard([SYSTEM], question="thanks a million")
    assert guard.judge("thanks a million.", final=True).reason == "echoes the question"
    assert guard.judge("You're welcome, any time!", final=True).reason == ""


def test_a_reply_is_held_while_it_may_still_only_say_the_question_back() -> None:
    """Shown words cannot be taken back (a spoken reply has said them): while a reply is
    the question's words in its order, nothing is shown; its first word of its own (or
    one out of order) shows all of it."""
    guard = ReplyGuard([SYSTEM], question="What is the capital of France?")
    assert guard.judge("The capital of Fr").safe == 0
    assert guard.judge("The capital of France is").safe == len("The capital of France is")
    assert guard.judge("The capital of France, Par").safe == len("The capital of France, Par")
    assert guard.judge("Paris").safe == len("Paris")


def test_a_sentence_opening_like_an_earlier_answer_is_held_until_it_differs() -> None:
    guard = ReplyGuard([SYSTEM], ["If he had married a pleasant woman, he would be kind."])
    assert guard.judge("Yes. If he had married a pl").safe == len("Yes. ")
    assert guard.judge("Yes. If he had married a nice").safe == len("Yes. If he had married a nice")
    assert guard.judge("Yes. He was").safe == len("Yes. He was")


def test_a_reply_opening_with_an_earlier_answer_is_not_this_questions_answer() -> None:
    guard = ReplyGuard([SYSTEM], ["Shakespeare wrote Hamlet."], question="fun fact about octopuses")
    verdict = guard.judge("Shakespeare wrote Hamlet. It took 72 minutes to calculate.", final=True)
    assert verdict == Verdict(0, "repeats an earlier answer")
    fresh = "Octopuses have three hearts. Shakespeare wrote Hamlet."
    assert guard.judge(fresh, final=True).safe == len("Octopuses have three hearts. ")
    assert guard.judge("Octopuses have three hearts and blue blood.", final=True).reason == ""


def test_a_bare_number_does_not_answer_a_question_in_words() -> None:
    words = ReplyGuard([SYSTEM], question="tell me a fun fact about octopuses")
    assert words.judge("72", final=True).reason == "a number for a question in words"
    sums = ReplyGuard([SYSTEM], question="What is 4817 multiplied by 2963?")
    assert sums.judge("14272771", final=True).reason == ""


def test_a_reply_caught_in_a_loop_keeps_only_its_first_time() -> None:
    loop = "1,439,323,776 + 1,380,004,385 + 331,002,651 + 273,523,615 + 220,892,340 = "
    reply = "The sum of all populations is " + loop + "1,108,806,995 + " + loop * 3
    verdict = ReplyGuard([SYSTEM]).judge(reply, final=True)
    assert verdict.reason == "repeats itself"
    assert clean(reply[: verdict.safe]).count("220,892,340") == 1


def test_words_that_come_back_in_a_longer_answer_are_not_a_loop() -> None:
    reply = (
        "Preheat the oven to 200 degrees. Mix the flour, the sugar and the butter until it "
        "looks like sand. Press it into the tin and bake for 20 minutes; then mix the flour, "
        "the sugar and the eggs for the top."
    )
    assert ReplyGuard([SYSTEM]).judge(reply, final=True).reason == ""


def test_a_reply_that_becomes_one_symbol_again_and_again_is_cut_where_it_began() -> None:
    reply = "Here are the numbers: 0, 1, 1, 2, 3, 5. Enjoy! " + "\U0001f31f " * 40
    verdict = ReplyGuard([SYSTEM]).judge(reply, final=True)
    assert verdict.reason == "repeats itself"
    assert clean(reply[: verdict.safe]) == "Here are the numbers: 0, 1, 1, 2, 3, 5. Enjoy!"


def test_rules_padding_and_long_numbers_are_not_loops() -> None:
    for reply in (
        "| Name | Age |\n| --- | --- |\n| Ann | 31 |",
        "Title\n" + "=" * 60 + "\nText under it.",
        "A googol is 1" + "0" * 100 + ".",
        "Laugh: hahaha, that is a good one.",
    ):
        assert ReplyGuard([SYSTEM]).judge(reply, final=True).reason == "", reply
