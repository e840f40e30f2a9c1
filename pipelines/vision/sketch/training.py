"""Train the sketch detector on human-annotated sketch photos (a Custom Vision export:
dataset.json with regions tagged Heading, Label, TextBox, … as fractions of the image) and
measure it honestly: k-fold cross-validation where every photo of the same drawing stays in
the same fold (several photos show one drawing), so each figure is for unseen drawings.

    python -m vistavox.pipelines.vision.sketch.training [--data DIR] [--out FILE]

Needs scikit-learn (a test dependency); the saved model needs only NumPy."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .detector import MODEL_NAME, Analysis, SketchModel, analyse
from .elements import TAGS, Element
from .forest import Forest
from .geometry import Box, iou
from .scoring import Tally

LABEL_PAD = 0.1  # candidates are loosened by this × their height (+2 px) before matching


@dataclass
class Sample:
    """One annotated photo, taken apart, with its candidates' labels."""

    name: str
    truth: list[tuple[str, Box]]  # photo pixels
    analysis: Analysis
    labels: np.ndarray  # per candidate: a tag or "none"
    offsets: np.ndarray  # per candidate: truth edges − candidate edges, × handwriting height
    words: frozenset[str]  # what OCR read, for grouping photos of the same drawing


def truth_boxes(item: dict) -> list[tuple[str, Box]]:
    w, h = item["width"], item["height"]
    return [
        (r["tagName"], (r["left"] * w, r["top"] * h, (r["left"] + r["width"]) * w,
                        (r["top"] + r["height"]) * h))
        for r in item["regions"] if r["tagName"] in TAGS
    ]  # fmt: skip


def label(analysis: Analysis, truth: list[tuple[str, Box]]) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's tag (the human box it overlaps best, IoU ≥ 0.5) and box offsets."""
    f, th = analysis.factor, analysis.comps.text_height
    work_truth = [(tag, tuple(v * f for v in box)) for tag, box in truth]
    tags, offsets = [], []
    for cand in analysis.cands.candidates:
        b = cand.box
        pad = LABEL_PAD * (b[3] - b[1]) + 2
        loose = (b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)
        best, best_tag, best_box = 0.0, "none", None
        for tag, box in work_truth:
            overlap = iou(loose, box)
            if overlap > best:
                best, best_tag, best_box = overlap, tag, box
        if best >= 0.5:
            tags.append(best_tag)
            offsets.append([(best_box[k] - b[k]) / th for k in range(4)])
        else:
            tags.append("none")
            offsets.append([0.0] * 4)
    return np.array(tags), np.array(offsets, np.float32).reshape(-1, 4)


def load_samples(folder: Path, progress=None) -> list[Sample]:
    """Every annotated photo in ``folder`` (dataset.json + <id>.jpg), with OCR."""
    from PIL import Image

    from ..ocr import recognise

    items = json.loads((folder / "dataset.json").read_text())
    samples = []
    for n, item in enumerate(items):
        photo = next(folder.glob(f"{item['id']}.*"))
        image = Image.open(photo).convert("RGB")
        if image.size != (item["width"], item["height"]):
            image = image.resize((item["width"], item["height"]))
        rgb = np.asarray(image)
        lines = recognise(rgb, min_score=0.0)
        analysis = analyse(rgb, lines)
        truth = truth_boxes(item)
        tags, offsets = label(analysis, truth)
        words = frozenset(w for t in lines for w in re.findall(r"[a-z0-9]{2,}", t.text.lower()))
        samples.append(Sample(photo.name, truth, analysis, tags, offsets, words))
        if progress:
            progress(n + 1, len(items), photo.name)
    return samples


def drawing_groups(samples: list[Sample], overlap: float = 0.25) -> list[int]:
    """Group photos that share most of their words (the same drawing photographed or
    scanned again): Jaccard similarity of OCR words above ``overlap`` joins two photos."""
    parent = list(range(len(samples)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, a in enumerate(samples):
        for j in range(i + 1, len(samples)):
            b = samples[j]
            if a.words and b.words and len(a.words & b.words) / len(a.words | b.words) > overlap:
                parent[root(j)] = root(i)
    roots = sorted({root(i) for i in range(len(samples))})
    return [roots.index(root(i)) for i in range(len(samples))]


def fit(samples: list[Sample], seed: int = 0) -> SketchModel:
    """Train on ``samples`` (scikit-learn random forests → portable arrays): a classifier
    of candidates and a regressor of how far each element's human box lies from its ink."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    x = np.concatenate([s.analysis.features for s in samples])
    y = np.concatenate([s.labels for s in samples])
    shifts = np.concatenate([s.offsets for s in samples])
    model = RandomForestClassifier(
        n_estimators=150, min_samples_leaf=2, max_features=0.3, random_state=seed, n_jobs=1
    )
    model.fit(x, y)
    element = y != "none"
    boxes = RandomForestRegressor(
        n_estimators=100, min_samples_leaf=3, max_features=0.3, random_state=seed, n_jobs=1
    )
    boxes.fit(x[element], shifts[element])
    offsets = {}
    for tag in TAGS:
        rows = shifts[y == tag]
        offsets[tag] = [float(v) for v in np.median(rows, 0)] if len(rows) else [0.0] * 4
    return SketchModel(Forest.from_sklearn(model), offsets, box_forest=Forest.from_sklearn(boxes))


def predict(model: SketchModel, sample: Sample) -> list[Element]:
    """Elements for a sample, in photo pixels."""
    found = model.select(sample.analysis)
    back = 1 / sample.analysis.factor
    for e in found:
        e.box = tuple(v * back for v in e.box)
    return found


def cross_validate(
    samples: list[Sample], folds: int = 5, seed: int = 0
) -> dict[str, list[Element]]:
    """Held-out predictions for every sample: k folds of whole drawing groups."""
    groups = drawing_groups(samples)
    fold_of = [g % folds for g in groups]
    held_out: dict[str, list[Element]] = {}
    for k in range(folds):
        train = [s for s, f in zip(samples, fold_of, strict=True) if f != k]
        test = [s for s, f in zip(samples, fold_of, strict=True) if f == k]
        if not test:
            continue
        model = fit(train, seed)
        for sample in test:
            held_out[sample.name] = predict(model, sample)
    return held_out


def score(samples: list[Sample], predictions: dict[str, list[Element]]) -> Tally:
    tally = Tally()
    for sample in samples:
        tally.add(sample.truth, [(e.tag, e.box) for e in predictions[sample.name]])
    return tally


def default_data_dir() -> Path:
    here = Path(__file__).resolve()
    return here.parents[4] / "shared" / "eval" / "sketches" / "annotated"


def default_model_path() -> Path:
    return Path(__file__).resolve().parents[3] / "resources" / MODEL_NAME


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="annotated photos")
    parser.add_argument("--out", type=Path, default=default_model_path(), help="model file")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    if not (args.data / "dataset.json").is_file():
        print(f"no dataset.json in {args.data}", file=sys.stderr)
        return 1
    samples = load_samples(args.data, lambda n, t, name: print(f"[{n}/{t}] {name}", flush=True))
    tally = score(samples, cross_validate(samples, args.folds))
    for with_tag in (True, False):
        print("with tag" if with_tag else "boxes only", json.dumps(tally.result(with_tag)["all"]))
    fit(samples).save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
