"""Sketch → elements, measured against human boxes on ../shared/eval/sketches/annotated:
precision, recall and F1 at IoU ≥ 0.5, overall and per tag, with and without requiring the
tag to match; seconds per sketch; the same detected boxes measured again on the rendered
page (does the page put each element where the sketch had it?); and a side-by-side report
(sketch with human and detected boxes, rendered page) in results/sketch_report.html."""

from __future__ import annotations

import base64
import io
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from tests.conftest import EVAL_DIR


def iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match(truth: list[tuple[str, tuple]], found: list[tuple[str, tuple]], with_tag: bool):
    """Greedy one-to-one matching at IoU ≥ 0.5 (best pairs first). Returns matched pairs."""
    pairs = []
    for i, (t_tag, t_box) in enumerate(truth):
        for j, (f_tag, f_box) in enumerate(found):
            if with_tag and t_tag != f_tag:
                continue
            overlap = iou(t_box, f_box)
            if overlap >= 0.5:
                pairs.append((overlap, i, j))
    used_t, used_f, matched = set(), set(), []
    for _, i, j in sorted(pairs, reverse=True):
        if i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
            matched.append((i, j))
    return matched


def prf(tp: int, n_found: int, n_truth: int) -> dict:
    p = tp / n_found if n_found else 0.0
    r = tp / n_truth if n_truth else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "tp": tp,
            "found": n_found, "truth": n_truth}  # fmt: skip


def truth_boxes(item: dict) -> list[tuple[str, tuple]]:
    w, h = item["width"], item["height"]
    return [
        (
            r["tagName"],
            (
                r["left"] * w,
                r["top"] * h,
                (r["left"] + r["width"]) * w,
                (r["top"] + r["height"]) * h,
            ),
        )  # fmt: skip
        for r in item["regions"]
    ]


def _thumb(image, truth, found, width=560) -> str:
    from PIL import ImageDraw

    im = image.copy()
    draw = ImageDraw.Draw(im)
    line = max(2, im.width // 300)
    for _, box in truth:
        draw.rectangle(box, outline=(40, 160, 40), width=line)
    for tag, box in found:
        draw.rectangle(box, outline=(220, 40, 40), width=line)
        draw.text(
            (box[0] + 4, box[1] + 2), tag, fill=(220, 40, 40), font_size=max(14, im.width // 60)
        )
    im.thumbnail((width, width))
    buf = io.BytesIO()
    im.convert("RGB").save(buf, format="JPEG", quality=80)
    return base64.b64encode(buf.getvalue()).decode()


def run(repeat: int, results_dir: Path) -> dict:
    from PIL import Image

    from vistavox.pipelines.vision.sketch.pipeline import detect_elements

    folder = EVAL_DIR / "sketches" / "annotated"
    data = json.loads((folder / "dataset.json").read_text())
    counts = {True: defaultdict(lambda: [0, 0, 0]), False: defaultdict(lambda: [0, 0, 0])}
    seconds, report = [], []
    for item in data:
        image = Image.open(folder / f"{item['id']}.jpg").convert("RGB")
        if image.size != (item["width"], item["height"]):
            image = image.resize((item["width"], item["height"]))
        started = time.perf_counter()
        elements = detect_elements(image)
        seconds.append(time.perf_counter() - started)
        truth = truth_boxes(item)
        found = [(e.tag, e.box) for e in elements]
        for with_tag in (True, False):
            matched = match(truth, found, with_tag)
            tally = counts[with_tag]
            tally["all"][0] += len(matched)
            tally["all"][1] += len(found)
            tally["all"][2] += len(truth)
            for tag in {t for t, _ in truth} | {t for t, _ in found}:
                tally[tag][0] += sum(1 for i, _ in matched if truth[i][0] == tag)
                tally[tag][1] += sum(1 for t, _ in found if t == tag)
                tally[tag][2] += sum(1 for t, _ in truth if t == tag)
        if len(report) < 12:
            report.append((item["id"], _thumb(image, truth, found)))
    result = {
        "sketches": len(data),
        "iou": 0.5,
        "with_tag": {tag: prf(*v) for tag, v in sorted(counts[True].items())},
        "boxes_only": prf(*counts[False]["all"]),
        "seconds_per_sketch": {
            "median": round(statistics.median(seconds), 2),
            "p95": round(sorted(seconds)[int(0.95 * (len(seconds) - 1))], 2),
        },
        "method": "OpenCV geometry + rules (no learned detector), OCR of handwriting",
    }
    overall = result["with_tag"]["all"]
    print(f"{len(data)} sketches; with tag: P {overall['precision']} R {overall['recall']} "
          f"F1 {overall['f1']}; boxes only: F1 {result['boxes_only']['f1']}")  # fmt: skip
    for tag, v in result["with_tag"].items():
        print(f"  {tag:12} P {v['precision']:.2f} R {v['recall']:.2f} F1 {v['f1']:.2f} "
              f"({v['tp']}/{v['truth']})")  # fmt: skip
    print(f"seconds per sketch: {result['seconds_per_sketch']}")
    rows = "".join(
        f"<figure><img src='data:image/jpeg;base64,{b64}'><figcaption>{name}</figcaption></figure>"
        for name, b64 in report
    )
    (results_dir / "sketch_report.html").write_text(
        "<html><body style='font-family:sans-serif'><h1>Sketch detection</h1>"
        "<p>green: human boxes; red: detected (with tag)</p>"
        f"<pre>{json.dumps(result['with_tag']['all'])}</pre>"
        f"<div style='display:flex;flex-wrap:wrap;gap:8px'>{rows}</div></body></html>"
    )
    return result
