"""OCR on the evaluation screenshots: seconds per screenshot (first call, and again with a
new image of the same size: the engine is loaded) and recall of the key words of each
screenshot's ground truth (words of 4+ letters from its key_text lines)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.conftest import EVAL_DIR


def _words(entry: str) -> list[str]:
    head, _, rest = entry.partition(":")
    value = rest if rest and len(head.split()) == 1 and head.islower() else entry
    return [w for w in value.replace(",", " ").split() if len(w) >= 4 and w.isalpha()]


def run(repeat: int, results_dir: Path) -> dict:
    from PIL import ImageOps

    from vistavox.pipelines.vision import ocr
    from vistavox.pipelines.vision.ingest import load_image
    from vistavox.pipelines.vision.layout_text import render_layout

    folder = EVAL_DIR / "screenshots"
    truth = json.loads((folder / "ground_truth.json").read_text())
    rows = []
    for item in truth:
        image = load_image(folder / item["file"]).image
        started = time.perf_counter()
        boxes = ocr.recognise(image)
        first = time.perf_counter() - started
        times = []
        for i in range(max(1, min(repeat, 3))):
            variant = ImageOps.expand(image, border=i + 1, fill="white")  # defeats the cache
            started = time.perf_counter()
            ocr.recognise(variant)
            times.append(time.perf_counter() - started)
        text = render_layout(boxes, image.size).lower()
        words = [w for entry in item["key_text"] for w in _words(entry)]
        found = sum(w.lower() in text for w in words)
        rows.append({
            "file": item["file"], "size": list(image.size), "lines": len(boxes),
            "first_s": round(first, 2), "warm_s": round(min(times), 2),
            "key_words": len(words), "found": found, "recall": round(found / max(1, len(words)), 3),
        })  # fmt: skip
        print(f"{item['file']:40} {image.size} {first:5.2f}s first, {min(times):5.2f}s warm, "
              f"key words {found}/{len(words)}")  # fmt: skip
    total = sum(r["key_words"] for r in rows)
    found = sum(r["found"] for r in rows)
    print(f"key-word recall {found}/{total} = {found / max(1, total):.3f}")
    return {"screenshots": rows, "key_word_recall": round(found / max(1, total), 3)}
