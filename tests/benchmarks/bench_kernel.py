"""Kernel: time to first token after a user turn with a warm KV cache (the conversation so
far already evaluated) versus cold, for contexts of about 500, 2000 and 4000 tokens; tokens
per second; memory."""

from __future__ import annotations

import resource
import time
from pathlib import Path

from tests.benchmarks import chosen_llm
from tests.benchmarks.stats import print_table, summary

SIZES = (500, 2000, 4000)


def _history(llm, target_tokens: int) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": "You are Vistavox, a helpful assistant."}]
    i = 0
    while llm.chat_prompt_tokens(messages) < target_tokens:
        messages.append({"role": "user", "content": f"Tell me fact number {i} about the sea."})
        messages.append(
            {
                "role": "assistant",
                "content": f"Fact {i}: the sea covers most of the "
                "planet, holds most of its water and shapes its weather and climate.",
            }
        )
        i += 1
    return messages


def _first_token(llm, messages) -> tuple[float, int, float]:
    start = time.perf_counter()
    first = None
    n = 0
    for _ in llm.stream_chat(messages, max_tokens=48, temperature=0.0):
        if first is None:
            first = time.perf_counter() - start
        n += 1
    total = time.perf_counter() - start
    rate = (n - 1) / (total - first) if first is not None and n > 1 else None
    return first or total, n, rate


def run(repeat: int, results_dir: Path) -> dict[str, object]:
    from vistavox.pipelines.kernel.local_llm import LlmSettings, LocalLlm

    llm = LocalLlm(chosen_llm(), settings=LlmSettings(context_tokens=4608))
    rows, figures = [], {}
    for size in SIZES:
        history = _history(llm, size)
        tokens = llm.chat_prompt_tokens(history)
        cold, warm, rates = [], [], []
        for r in range(repeat):
            question = {"role": "user", "content": f"Now tell me something new, number {r}."}
            llm._llama.reset()  # cold: nothing cached
            t, _, rate = _first_token(llm, history + [question])
            cold.append(t)
            rates.append(rate)
            # warm: the history is cached (as after the previous turn); only the turn is new
            _first_token(llm, history + [{"role": "user", "content": "Warm-up."}])
            t, _, rate = _first_token(llm, history + [question])
            warm.append(t)
            rates.append(rate)
        figures[str(size)] = {
            "prompt_tokens": tokens,
            "cold_first_token_s": summary(cold),
            "warm_first_token_s": summary(warm),
            "tokens_per_s": summary(rates),
        }
        rows.append(
            {
                "context": tokens,
                "cold median": summary(cold)["median"],
                "warm median": summary(warm)["median"],
                "cold p95": summary(cold)["p95"],
                "warm p95": summary(warm)["p95"],
                "tok/s": summary(rates)["median"],
            }
        )
    print_table(rows, ["context", "cold median", "warm median", "cold p95", "warm p95", "tok/s"])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS): {peak_mb:.0f} MB")
    return {"model": llm.model_info.spec.name, "sizes": figures, "peak_rss_mb": round(peak_mb)}
