"""Everyday requests (../shared/eval/everyday, CLINC150) through the kernel as the app runs it:
the everyday intents first, then the language model with the persona's tools, behind the
output guard. Each request is a fresh conversation, as a one-off question in the app.

Scored per check kind by the rules of the material's MANIFEST (tests/benchmarks/
everyday_scoring.py), with the replies that carry prompt text counted apart, and seconds per
request (to the first words shown, and to the whole reply), for intent and model answers.

``--no-intents`` sends every request to the model (how the models compare on their own, and
the guard's hardest test); results go to everyday-MODEL-no-intents.json.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tests.benchmarks import chosen_llm
from tests.benchmarks.everyday_scoring import prompt_leaks, score
from tests.conftest import EVAL_DIR


def _kernel(llm, work: Path, intents: bool = True):
    """The typed-turn kernel the desktop builds: the assistant persona with its tools, the
    everyday intents in front, timers in the same database."""
    from vistavox.pipelines.intents.handler import add_everyday_intents
    from vistavox.pipelines.kernel.kernel import Kernel
    from vistavox.pipelines.kernel.personas import load_persona
    from vistavox.pipelines.kernel.store import Store
    from vistavox.pipelines.tools.defaults import default_registry
    from vistavox.pipelines.tools.documents import DocumentIndex

    store = Store(work / "conversations.db")
    persona = load_persona("assistant")
    registry = default_registry(
        store,
        confirm=lambda *_: False,
        workspace=work / "workspace",
        persona_name=persona.name,
        documents=DocumentIndex(work / "documents.db"),
    )
    kernel = Kernel(llm, store, persona, tools=registry)
    kernel.threads = os.cpu_count()  # as the app answers typed turns
    answered: list = []
    if intents:
        add_everyday_intents(kernel, on_answer=answered.append)
    return kernel, store, answered


def _summary(seconds: list[float]) -> dict:
    if not seconds:
        return {"n": 0}
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {
        "n": len(seconds),
        "median_s": round(statistics.median(seconds), 3),
        "p95_s": round(p95, 3),
        "max_s": round(ordered[-1], 3),
    }


def run(repeat: int, results_dir: Path) -> dict:
    from vistavox.pipelines.kernel.loading import load_llm
    from vistavox.pipelines.kernel.local_llm import LocalLlm

    chosen = chosen_llm()
    llm = LocalLlm(chosen) if chosen is not None else load_llm("")
    tasks = [json.loads(line) for line in (EVAL_DIR / "everyday" / "tasks.jsonl").open()]
    work = Path(tempfile.mkdtemp(prefix="vistavox-bench-everyday-"))
    intents = os.environ.get("VISTAVOX_BENCH_NO_INTENTS") != "1"
    kernel, store, answered = _kernel(llm, work, intents)
    kernel.warm_up(None)
    items = []
    for task in tasks:
        before = {t.id for t in store.pending_timers()}
        answered.clear()
        first: list[float] = []
        started = time.perf_counter()

        def shown(_piece: str, _first=first, _started=started) -> None:
            if not _first:
                _first.append(time.perf_counter() - _started)

        reply = kernel.ask(task["utterance"], on_token=shown)
        seconds = time.perf_counter() - started
        answered_at = datetime.now().astimezone()
        timers = [t.seconds for t in store.pending_timers() if t.id not in before]
        check = score(
            task["expected"],
            reply.text,
            answered_at=answered_at,
            timers_set=timers,
            request=task["utterance"],
        )
        items.append(
            {
                "id": task["id"],
                "intent": task["intent"],
                "kind": task["expected"]["kind"],
                "request": task["utterance"],
                "reply": reply.text,
                "ok": check.passed,
                "strict": check.strict,
                "detail": check.detail,
                "answered_by": f"intent:{answered[0].intent}" if answered else "model",
                "tools": [r.tool for r in reply.tool_results],
                "leaks": prompt_leaks(reply.text),
                "first_words_s": round(first[0], 3) if first else None,
                "seconds": round(seconds, 3),
            }
        )
        for timer in store.pending_timers():  # a fresh start for the next request
            store.end_timer(timer.id, "cancelled")
    store.close()
    result = _report(items, llm.model_info.spec.title)
    result["intents"] = intents
    return result


def _report(items: list[dict], model: str) -> dict:
    kinds: dict[str, dict] = {}
    for item in items:
        entry = kinds.setdefault(item["kind"], {"correct": 0, "total": 0, "strict": 0})
        entry["total"] += 1
        entry["correct"] += bool(item["ok"])
        entry["strict"] += bool(item["strict"])
    by_path = {
        path: {
            "first_words": _summary(
                [i["first_words_s"] for i in items if _path(i) == path and i["first_words_s"]]
            ),
            "whole_reply": _summary([i["seconds"] for i in items if _path(i) == path]),
        }
        for path in ("intent", "model")
    }
    leaks = [i for i in items if i["leaks"]]
    result = {
        "model": model,
        "requests": len(items),
        "correct": sum(i["ok"] for i in items),
        "by_kind": kinds,
        "replies_with_prompt_text": len(leaks),
        "answered_by_intent": sum(_path(i) == "intent" for i in items),
        "seconds": by_path,
        "items": items,
    }
    print(f"model: {model}")
    print(f"{'kind':24} {'right':>9} {'strict':>7}")
    for kind, entry in sorted(kinds.items()):
        share = 100 * entry["correct"] / entry["total"]
        strict = entry["strict"] if kind in ("number", "spelling") else "-"
        print(f"{kind:24} {entry['correct']:>3}/{entry['total']:<3} {share:4.0f}% {strict!s:>4}")
    print(f"answered by an intent: {result['answered_by_intent']}/{len(items)}")
    print(f"replies with prompt text: {len(leaks)}")
    for path, figures in by_path.items():
        first, whole = figures["first_words"], figures["whole_reply"]
        if whole.get("n"):
            print(
                f"{path}: first words median {first.get('median_s')} s (p95 {first.get('p95_s')}),"
                f" whole reply median {whole['median_s']} s (p95 {whole['p95_s']}), n={whole['n']}"
            )
    for item in items:
        if not item["ok"] or item["leaks"]:
            print(f"  FAIL {item['kind']}: {item['request']!r} -> {item['reply'][:120]!r}")
    return result


def _path(item: dict) -> str:
    return "intent" if item["answered_by"].startswith("intent") else "model"
