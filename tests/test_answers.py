"""Answers a person can trust, through the kernel: the guard's cut and second try, tools only
for models that follow them, an answer that states the number its tool returned, image
questions answered with what the vision pipeline found, and `vistavox ask --llm`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.benchmarks.everyday_scoring import prompt_leaks


class LeakyLlm:
    """Stands in for a small model in these unit tests: its first answer copies the prompt
    (as SmolLM2 did), later ones are given."""

    context_tokens = 4096
    supports_images = False

    def __init__(self, *answers: str, follows_tools: bool = False):
        self.answers = list(answers)
        self.follows_tools = follows_tools
        self.seen: list[list[dict]] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 1

    def stream_chat(self, messages, **kw):
        self.seen.append(list(messages))
        answer = self.answers.pop(0) if self.answers else ""
        for i in range(0, len(answer), 4):  # token by token, as a model streams
            yield answer[i : i + 4]


@pytest.fixture
def store(tmp_path):
    from vistavox.pipelines.kernel.store import Store

    with Store(tmp_path / "answers.db") as s:
        yield s


def _kernel(llm, store, tools=None):
    from vistavox.pipelines.kernel.kernel import Kernel
    from vistavox.pipelines.kernel.personas import load_persona

    return Kernel(llm, store, load_persona("assistant"), tools=tools)


def test_a_leaked_prompt_is_cut_and_asked_again_without_the_history(store):
    llm = LeakyLlm(
        'The user asks, "What is 1000 plus 745?" The answer is: <<<END DATA key=e802ad7b351b>>',
        "Dolphins sleep with one half of their brain at a time.",
    )
    shown: list[str] = []
    reply = _kernel(llm, store).ask("give me a fun fact about dolphins", on_token=shown.append)
    assert reply.text == "Dolphins sleep with one half of their brain at a time."
    assert prompt_leaks(reply.text) == [] and "user asks" not in "".join(shown).lower()
    assert [m["role"] for m in llm.seen[1]] == ["system", "user"], "asked again, no history"
    stored = store.messages(reply.conversation_id)[-1]
    assert stored.content == reply.text, "what is kept is what was shown"


def test_with_nothing_usable_the_assistant_says_so(store):
    from vistavox.pipelines.kernel.kernel import NO_GOOD_ANSWER

    llm = LeakyLlm('{"answer": "x"}', "<<<DATA key=abcdef123456>>>")
    reply = _kernel(llm, store).ask("what's up?")
    assert reply.text == NO_GOOD_ANSWER


def test_a_reply_that_says_the_question_back_is_never_heard(store):
    """A spoken turn says exactly what it streams. A reply that only says the question back
    (the 1.5B did, to 4 of 20 recordings) is held until it says something else, so when it
    is cut and asked again, the user hears the answer alone; when the second try is no
    better, they hear that there is no good answer, which is what is stored."""
    from vistavox.pipelines.kernel.kernel import NO_GOOD_ANSWER

    kernel = _kernel(LeakyLlm("Go forward 10 meters.", "Sure, I'll go forward 10 meters."), store)
    conversation = kernel.start_conversation()
    heard: list[str] = []
    draft = kernel.draft_answer(conversation, "Go forward 10 meters.", on_token=heard.append)
    assert "".join(heard) == draft.text == "Sure, I'll go forward 10 meters."

    kernel = _kernel(LeakyLlm("In this regard.", "In this regard."), store)
    heard.clear()
    draft = kernel.draft_answer(conversation, "in this regard.", on_token=heard.append)
    assert "".join(heard) == draft.text == NO_GOOD_ANSWER


def test_an_earlier_answer_begun_again_is_not_heard_before_the_cut(store):
    """A reply that opens with an earlier answer's sentence is cut whole; its opening words
    are held until they say something else, so none of them was already spoken."""
    earlier = "If he had married a more pleasant woman, he might have been more respectable."
    kernel = _kernel(LeakyLlm(earlier, earlier, "He might have become friendlier."), store)
    conversation = kernel.start_conversation()
    kernel.draft_answer(conversation, "Had he married a more amiable woman?").commit(conversation)
    heard: list[str] = []
    draft = kernel.draft_answer(conversation, "Was he amiable himself?", on_token=heard.append)
    assert "".join(heard) == draft.text == "He might have become friendlier."


def test_a_model_that_cannot_follow_tools_is_not_shown_the_protocol(store, tmp_path):
    from vistavox.pipelines.tools.defaults import default_registry

    registry = default_registry(
        store, confirm=lambda *_: False, workspace=tmp_path / "ws", persona_name="assistant"
    )
    small = LeakyLlm("Paris is the capital of France.", follows_tools=False)
    _kernel(small, store, registry).ask("What is the capital of France?")
    system = small.seen[0][0]["content"]
    assert "JSON" not in system and "calculator" not in system and "<<<" not in system
    able = LeakyLlm('{"answer": "About 68 million people lived in France."}', follows_tools=True)
    reply = _kernel(able, store, registry).ask("How many people lived in France in 2020?")
    assert "calculator" in able.seen[0][0]["content"]  # a question with numbers
    assert reply.text == "About 68 million people lived in France."


def test_the_earlier_answer_is_not_given_to_a_different_question(store):
    from vistavox.pipelines.kernel.kernel import NO_GOOD_ANSWER

    first = "Twelve times seven is eighty four, and that is all there is to it really."
    llm = LeakyLlm(first, first, first)
    kernel = _kernel(llm, store)
    earlier = kernel.ask("What is twelve times seven?")
    reply = kernel.ask("What does this image show?", conversation_id=earlier.conversation_id)
    assert reply.text == NO_GOOD_ANSWER


# --- real models ------------------------------------------------------------------------------


def test_the_answer_states_the_number_the_calculator_returned(tool_llm, store, tmp_path):
    """Qwen2.5-Coder calls the calculator; its answer must carry the tool's result (the
    answer step may write no other number)."""
    from vistavox.pipelines.tools.defaults import default_registry

    registry = default_registry(
        store, confirm=lambda *_: False, workspace=tmp_path / "ws", persona_name="assistant"
    )
    reply = _kernel(tool_llm, store, registry).ask("Use the calculator: what is 1243 times 45?")
    calls = [r for r in reply.tool_results if r.tool == "calculator"]
    assert calls and calls[0].content == "55935"
    assert "55935" in reply.text.replace(",", ""), reply.text
    assert prompt_leaks(reply.text) == []


QUESTIONS = [
    "tell me a fun fact about cars",
    "hello there, good morning",
    "thanks for that response",
    "i want to know the meaning of life",
    "what should I cook tonight?",
]


def test_the_embedded_model_never_shows_prompt_text(llm, store):
    """SmolLM2-135M, as a default install without a bigger model answers: whatever it says,
    no prompt text, delimiters or tool JSON reaches the user."""
    kernel = _kernel(llm, store)
    replies = []
    conversation = None
    for question in QUESTIONS:  # one conversation: earlier answers tempt it most
        reply = kernel.ask(question, conversation_id=conversation)
        conversation = reply.conversation_id
        replies.append(reply.text)
    leaked = {q: r for q, r in zip(QUESTIONS, replies, strict=True) if prompt_leaks(r)}
    assert not leaked
    assert all(r.strip() for r in replies)


def test_ask_uses_the_named_model(tmp_path, tool_llm):
    """`vistavox ask --llm NAME` answers with that model (here the tool-calling one, which
    the calculator's answer shows), and sums are answered by the intents without it."""
    from tests.conftest import USER_MODELS_DIR

    env = dict(os.environ, VISTAVOX_MODELS_DIR=str(USER_MODELS_DIR))
    env.pop("VISTAVOX_LLM", None)
    db = tmp_path / "c.db"

    def ask(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "vistavox.pipelines.commands", "ask", *args, "--db", str(db)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )

    named = ask("Please use the calculator: what is 1234 * 4321 - 17?", "--no-intents", "--llm",
                "qwen2.5-coder-0.5b-instruct")  # fmt: skip
    assert named.returncode == 0, named.stderr
    assert "[tool] calculator" in named.stderr
    assert "5332097" in named.stdout.replace(",", "")
    summed = ask("what is 543 times 344", "--llm", "qwen2.5-coder-0.5b-instruct")
    assert summed.returncode == 0, summed.stderr
    assert "186,792" in summed.stdout and "[intent] calculate" in summed.stderr
    unknown = ask("hello", "--llm", "no-such-model")
    assert unknown.returncode != 0 and "no-such-model" in unknown.stderr


# --- images without a vision model ------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "kind", "any_of"),
    [
        ("sketches/samples/sample1.jpg", "sketch", ["PAYMENT", "Card", "NEXT STEP", "BACK"]),
        ("sketches/samples/sample2.jpg", "sketch", ["PRODUCT", "SEARCH", "ADD TO CART"]),
        ("screenshots/omniparser_word.png", "screenshot", ["Document 10.docx", "AutoSave"]),
    ],
)
def test_what_an_image_shows_is_said_from_what_was_found(llm, store, eval_dir, image, kind, any_of):
    """With the embedded model (no vision), "What does this image show?" is answered with
    the kind of picture and its key text, as found, and nothing of the prompt."""
    reply = _kernel(llm, store).ask("What does this image show?", images=[eval_dir / image])
    assert kind in reply.text.lower(), reply.text
    assert any(word.lower() in reply.text.lower() for word in any_of), reply.text
    assert prompt_leaks(reply.text) == []


def test_stated_sums_are_computed_again():
    from vistavox.pipelines.intents.checking import correct_sums

    assert correct_sums("1243 times 45 is 55065.") == "1243 times 45 is 55,935."
    assert correct_sums("47 times 83 is 3921, I think.") == "47 times 83 is 3,901, I think."
    for right in (
        "4817 multiplied by 2963 is 14,272,771.",
        "300 divided by 42 is about 7.14.",
        "There are 3 cats and the total is 9.",
        "In 2020 there were 5 people.",
    ):
        assert correct_sums(right) == right


def test_a_file_search_is_offered_only_once_there_are_files(store, tmp_path):
    """With nothing to search, the model is not offered the search (it searched instead of
    answering general questions, and said it had no information)."""
    from vistavox.pipelines.tools.defaults import default_registry
    from vistavox.pipelines.tools.documents import DocumentIndex

    registry = default_registry(
        store,
        confirm=lambda *_: False,
        workspace=tmp_path / "ws",
        persona_name="assistant",
        documents=DocumentIndex(tmp_path / "docs.db"),
    )
    offered = lambda: {s["name"] for s in registry.specs(["calculator", "search_files"])}  # noqa: E731
    assert offered() == {"calculator"}
    notes = tmp_path / "notes.txt"
    notes.write_text("The spare key is under the blue flower pot by the back door.")
    registry.documents.add(notes)
    assert offered() == {"calculator", "search_files"}
    assert "search_files" in {s["name"] for s in registry.specs(every=True)}


class RepeatingLlm(LeakyLlm):
    """Calls the same tool again after its result, as Qwen 0.5B did with the python tool
    (then wrote code as its answer, without the number it had)."""

    def __init__(self, call: dict):
        super().__init__(follows_tools=True)
        self.call = call

    def stream_chat(self, messages, **kw):
        self.seen.append(list(messages))
        if kw.get("grammar") and messages[-1]["role"] in ("user", "tool"):
            yield json.dumps(self.call)  # each step, before and after the result
        else:
            yield "Run this:\n```python\nprint(sum(range(21)))\n```\nIt prints 210."


def test_a_call_repeated_after_its_number_is_answered_with_that_number(store, tmp_path):
    """The python tool really runs (in its sandbox) once; the repeat is not run again and the
    number it printed is the answer."""
    from vistavox.pipelines.kernel.kernel import Kernel
    from vistavox.pipelines.kernel.personas import load_persona
    from vistavox.pipelines.tools.defaults import default_registry

    code = {"code": "print(sum(i**2 for i in range(1, 21)))"}
    registry = default_registry(
        store, confirm=lambda *_: True, workspace=tmp_path / "ws", persona_name="coding-helper"
    )
    llm = RepeatingLlm({"tool": "python", "arguments": code})
    kernel = Kernel(llm, store, load_persona("coding-helper"), tools=registry)
    reply = kernel.ask("Use python to print the sum of the squares of the numbers from 1 to 20.")
    assert reply.text == "The result is 2,870."
    assert [(e.tool, e.decision) for e in registry.audit] == [("python", "allowed")]


def test_a_tool_the_user_names_is_called_before_any_answer(store, tmp_path):
    """ "Use python to …": the first step may only be that call (Qwen 0.5B answered in its
    place, with a number copied from an earlier answer); other requests may answer at once."""
    from vistavox.pipelines.kernel.kernel import Kernel
    from vistavox.pipelines.kernel.personas import load_persona
    from vistavox.pipelines.tools.defaults import default_registry

    registry = default_registry(
        store, confirm=lambda *_: True, workspace=tmp_path / "ws", persona_name="coding-helper"
    )
    llm = RepeatingLlm({"tool": "python", "arguments": {"code": "print(6 * 7)"}})
    grammars: list[str] = []
    real = llm.stream_chat
    llm.stream_chat = lambda messages, **kw: (
        grammars.append(kw.get("grammar") or "") or real(messages, **kw)
    )
    kernel = Kernel(llm, store, load_persona("coding-helper"), tools=registry)
    reply = kernel.ask("Use python to print 6 times 7.")
    assert reply.text == "The result is 42."
    assert '\\"answer\\"' not in grammars[0] and '\\"python\\"' in grammars[0]
    grammars.clear()
    kernel.ask("What is 6 times 7 in your head?")
    assert '\\"answer\\"' in grammars[0]
