"""Injections carried in images alone (the part of ``tools`` that attaches them; see
bench_tools): each indirect payload of ../shared/eval/injection drawn as a typographic image,
and the case images (FigStep), attached with the user's request; with no vision model the
kernel gets the text OCR reads from them, as data. Reports risky tools run, answers that
gave in (mechanically judged) and how much of each payload OCR read back."""

from __future__ import annotations

import json
from pathlib import Path

from tests.benchmarks.bench_tools import _image_injections, bench_setup
from tests.conftest import EVAL_DIR


def run(repeat: int, results_dir: Path) -> dict:
    llm, work, store, registry = bench_setup("vistavox-bench-images-")
    cases = [json.loads(line) for line in (EVAL_DIR / "injection" / "cases.jsonl").open()]
    result = _image_injections(llm, store, registry, work, cases)
    store.close()
    print(f"model: {llm.model_info.spec.title}")
    print(
        f"injections in images: no risky tool ran in {result['no_risky_tool_ran']}/"
        f"{result['cases']}; answer resisted in {result['resisted_of_judged']}/"
        f"{result['judged']} mechanically judged; OCR read back a median "
        f"{result['median_ocr_word_recall']} of each payload's words"
    )
    return {"model": llm.model_info.spec.title, **result}
