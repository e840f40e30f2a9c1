"""The language model's proof-reading of sketch pages (``--llm MODEL``; default: the
built-in one).

1. The four sample sketches, whose words were transcribed by a person
   (sketches/descriptions.json): how many of the quoted words and phrases appear exactly
   (case and spacing aside) among the page's element words, before and after refinement.
2. Every annotated sketch photo: proposals made, taken and refused by the checks; whether
   the title and accent changed; seconds per refinement (the model's answer only).
Each page is detected once (the same elements go to every model run).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from tests.benchmarks.stats import print_table, summary
from tests.conftest import EVAL_DIR


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w$.]+", " ", text.lower()).split())


def _exact(phrases: list[str], texts: list[str]) -> int:
    have = {_norm(t) for t in texts}
    return sum(_norm(p) in have for p in phrases)


def run(repeat: int, results_dir: Path) -> dict:
    from vistavox.pipelines.kernel.loading import load_llm
    from vistavox.pipelines.vision.sketch.pipeline import sketch_to_html
    from vistavox.pipelines.vision.sketch.refine import RefineError, refine

    name = os.environ.get("VISTAVOX_BENCH_LLM", "")
    llm = load_llm(name)
    folder = EVAL_DIR / "sketches"
    described = {
        Path(d["file"]).name: d for d in json.loads((folder / "descriptions.json").read_text())
    }
    photos = sorted((folder / "samples").glob("*.jpg")) + sorted(
        (folder / "annotated").glob("*.jpg")
    )
    rows, seconds = [], []
    before_hits = after_hits = quoted_total = 0
    for photo in photos:
        result = sketch_to_html(photo)
        started = time.perf_counter()
        try:
            refinement = refine(llm, result.page_elements)
            error = ""
        except RefineError as exc:
            refinement, error = None, str(exc)
        seconds.append(time.perf_counter() - started)
        row = {
            "photo": photo.name[:12], "elements": len(result.elements),
            "worded": sum(1 for e in result.elements if e.text.strip()),
            "taken": len(refinement.texts) if refinement else 0,
            "refused": len(refinement.rejected) if refinement else 0,
            "title": bool(refinement and refinement.title),
            "accent": refinement.accent if refinement else None,
            "s": round(seconds[-1], 2), "error": error,
        }  # fmt: skip
        if photo.name in described and refinement is not None:
            quoted = re.findall(r"'([^']+)'", " ".join(described[photo.name]["elements"]))
            before = [e.text for e in result.page_elements]
            after = [e.text for e in result.refined(refinement).page_elements]
            row["quoted"] = len(quoted)
            row["exact_before"] = _exact(quoted, before)
            row["exact_after"] = _exact(quoted, after)
            quoted_total += len(quoted)
            before_hits += row["exact_before"]
            after_hits += row["exact_after"]
        row["changes"] = refinement.changes(result.page_elements) if refinement else []
        rows.append(row)
    columns = ["photo", "elements", "worded", "taken", "refused", "title", "accent", "s"]
    print_table(rows, [*columns, "exact_before", "exact_after"])
    for row in rows:
        for change in row["changes"]:
            print(f"  {row['photo']}: {change}")
    taken = sum(r["taken"] for r in rows)
    refused = sum(r["refused"] for r in rows)
    print(
        f"model {llm.model_info.spec.name}: {taken} words taken, {refused} refused, "
        f"{sum(bool(r['error']) for r in rows)} unusable answers over {len(rows)} pages; "
        f"samples: quoted words exact {before_hits}/{quoted_total} before, "
        f"{after_hits}/{quoted_total} after; seconds {summary(seconds)}"
    )
    return {
        "model": llm.model_info.spec.name,
        "pages": rows,
        "taken": taken,
        "refused": refused,
        "samples_exact_before": before_hits,
        "samples_exact_after": after_hits,
        "samples_quoted": quoted_total,
        "seconds": summary(seconds),
    }
