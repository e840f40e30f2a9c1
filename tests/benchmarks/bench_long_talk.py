"""A long spoken conversation at the end of the context window, through the voice kernel as
the engine drives it (``draft_answer``, then ``commit``, whose summary of paged-out turns
runs in the background): the time to the first token of each turn, and which turns paged
older ones out. The conversation starts with stored exchanges that nearly fill the window;
then questions come a few seconds apart, as they do aloud. With ``--llm``: that model
(default: the app's own choice, as the voice loop uses).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from tests.benchmarks.stats import print_table, summary

STORED_EXCHANGES = 30
GAP_S = 4.0  # between a reply's end and the next question (a reply is being heard)
QUESTIONS = [
    "What is the capital of France?",
    "How many legs does a spider have?",
    "What colour is the sky on a clear day?",
    "Can you recommend a good book?",
    "What is the capital of Spain?",
    "Tell me a fun fact about octopuses.",
    "What should I cook for dinner tonight?",
    "Why is the sea salty?",
    "What is the tallest mountain in the world?",
    "How do bees make honey?",
    "Who wrote Romeo and Juliet?",
    "What is the boiling point of water?",
    "Why do cats purr?",
    "How far away is the moon?",
]


def run(repeat: int, results_dir: Path) -> dict[str, object]:
    del repeat, results_dir
    from vistavox.pipelines.conversation.voice_kernel import voice_kernel
    from vistavox.pipelines.kernel.loading import load_llm
    from vistavox.pipelines.kernel.store import Store

    llm = load_llm(os.environ.get("VISTAVOX_BENCH_LLM") or None)
    folder = Path(tempfile.mkdtemp(prefix="vistavox-long-talk-"))
    kernel = voice_kernel(llm, Store(folder / "conversation.db"))
    conversation = kernel.start_conversation()
    for i in range(STORED_EXCHANGES):
        kernel.record_exchange(
            conversation,
            f"Question number {i}: what do you think about the weather in town today?",
            f"Answer {i}: the weather in town is fine today, with sun and a light breeze.",
            interrupted=False,
        )
    kernel.warm_up(conversation)
    turns = []
    for question in QUESTIONS:
        started, first = time.monotonic(), []

        def on_token(piece: str, started=started, first=first) -> None:
            if piece.strip() and not first:
                first.append(time.monotonic() - started)

        draft = kernel.draft_answer(conversation, question, on_token=on_token)
        whole = time.monotonic() - started
        draft.commit(conversation)
        turns.append(
            {
                "question": question,
                "first_token_s": round(first[0], 3) if first else None,
                "reply_s": round(whole, 3),
                "paged_out": len(draft.plan.paged_out),
                "reply": draft.text,
            }
        )
        print(f"{turns[-1]['first_token_s']} s  paged {len(draft.plan.paged_out):3}  {question}")
        time.sleep(GAP_S)
    firsts = [t["first_token_s"] for t in turns]
    before = [0] + [t["paged_out"] for t in turns[:-1]]
    paging = [t["first_token_s"] for t, b in zip(turns, before, strict=True) if t["paged_out"] > b]
    rows = [
        {"measure": "first token, every turn", **summary(firsts)},
        {"measure": "first token, turns that paged out more", **summary(paging)},
    ]
    print_table(rows, ["measure", "n", "median", "p95", "min", "max"])
    summarised = kernel.store.latest_summary(conversation)
    return {
        "llm": llm.model_info.spec.name,
        "stored_exchanges": STORED_EXCHANGES,
        "gap_s": GAP_S,
        "first_token_s": summary(firsts),
        "first_token_paging_s": summary(paging),
        "summary_written": summarised is not None,
        "turns": turns,
    }
