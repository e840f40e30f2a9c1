"""Sketch photo (+ OCR lines) → tagged element boxes. The ink is normalised, cut into
primitives, composed by rules, turned into many candidate boxes with feature vectors; a
random forest (trained by ``training.py`` on human-annotated sketches) says how likely
each candidate is an element and of which kind; overlapping candidates are resolved
greedily, best first; boxes are loosened the way people draw boxes round elements."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ...errors import VistavoxError
from .candidates import CandidateSet, generate
from .elements import TAGS, Element
from .features import MARKER_COLUMNS, RULE_TAG_COLUMNS, FeatureContext
from .forest import Forest
from .geometry import Box, clip, inside_frac, iou, scale
from .normalise import ink_mask, working_image
from .primitives import Components, components, find_primitives
from .rules import RuleResult, detect_by_rules

MODEL_NAME = "sketch_detector.npz"
BOX_PREFIX = "box_"  # the box regressor's arrays in the .npz
FEATURE_VERSION = 2  # bump when features change: an old model then refuses to load


class SketchModelError(VistavoxError):
    """The trained sketch detector is missing or does not fit this code."""


@dataclass(frozen=True)
class WorkingLine:
    """An OCR line in working pixels."""

    box: Box
    text: str
    score: float


@dataclass
class Analysis:
    """One sketch taken apart (working pixels; ``factor`` = working / photo)."""

    mask: np.ndarray
    factor: float
    comps: Components
    rules: RuleResult
    cands: CandidateSet
    features: np.ndarray
    lines: list[WorkingLine]

    @property
    def size(self) -> tuple[int, int]:
        return self.mask.shape[1], self.mask.shape[0]


def analyse(rgb: np.ndarray, ocr_lines=()) -> Analysis:
    """Take a sketch photo (RGB array) apart; ``ocr_lines`` have ``box`` in photo pixels."""
    work, factor = working_image(rgb)
    mask = ink_mask(work)
    comps = components(mask)
    prims = find_primitives(mask, comps)
    rules = detect_by_rules(mask, prims, comps)
    lines = [
        WorkingLine(scale(t.box, factor), t.text, float(getattr(t, "score", 1.0)))
        for t in ocr_lines
    ]
    cands = generate(mask, comps, lines, rules)
    features = FeatureContext(mask, comps, lines, cands, rules).matrix(cands.candidates)
    return Analysis(mask, factor, comps, rules, cands, features, lines)


@dataclass
class SketchModel:
    """The trained classifier and how its output is turned into elements."""

    forest: Forest
    offsets: dict[str, list[float]]  # per tag: box edges to add, × handwriting height
    threshold: float = 0.4  # least element probability (1 - P(none)) kept
    overlap: float = 0.3  # IoU above which the weaker of two elements is dropped
    rule_override: float = 0.6  # trust the rules' composite tags above this IoU
    box_forest: Forest | None = None  # per candidate: its four edge shifts (else offsets)

    def save(self, path: Path) -> None:
        meta = {
            "offsets": self.offsets, "threshold": self.threshold, "overlap": self.overlap,
            "rule_override": self.rule_override, "feature_version": FEATURE_VERSION,
        }  # fmt: skip
        boxes = self.box_forest.arrays(BOX_PREFIX) if self.box_forest else {}
        np.savez_compressed(path, meta=np.array(json.dumps(meta)), **self.forest.arrays(), **boxes)

    @classmethod
    def load(cls, path: Path | None = None) -> SketchModel:
        """The model shipped in vistavox.resources (or the one at ``path``)."""
        if path is None:
            source = resources.files("vistavox.resources").joinpath(MODEL_NAME)
            if not source.is_file():
                raise SketchModelError(
                    f"the sketch detector model ({MODEL_NAME}) is missing from the installed "
                    "resources; train it: python -m vistavox.pipelines.vision.sketch.training"
                )
            with resources.as_file(source) as file:
                return cls.load(file)
        if not Path(path).is_file():
            raise SketchModelError(f"the sketch detector model {path} does not exist")
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("feature_version") != FEATURE_VERSION:
                raise SketchModelError(
                    f"{path} was trained for sketch features v{meta.get('feature_version')}, "
                    f"this code computes v{FEATURE_VERSION}: retrain it"
                )
            forest = Forest.from_arrays(data)
            boxes = Forest.from_arrays(data, BOX_PREFIX) if BOX_PREFIX + "roots" in data else None
        return cls(
            forest, meta["offsets"], meta["threshold"], meta["overlap"], meta["rule_override"],
            boxes,
        )  # fmt: skip

    def select(self, analysis: Analysis) -> list[Element]:
        """The elements, in working pixels, best first."""
        cands = analysis.cands.candidates
        if not cands:
            return []
        probs = self.forest.predict_proba(analysis.features)
        classes = list(self.forest.classes)
        none = classes.index("none")
        tag_probs = probs.copy()
        tag_probs[:, none] = -1
        best_tag = tag_probs.argmax(1)
        score = 1 - probs[:, none]
        shifts = self.box_forest.predict(analysis.features) if self.box_forest else None
        th = analysis.comps.text_height
        width, height = analysis.size
        kept: list[tuple[Element, int]] = []
        for k in np.argsort(-score, kind="stable"):
            if score[k] < self.threshold:
                break
            tag = self._tag(classes[best_tag[k]], analysis.features[k])
            shift = shifts[k] if shifts is not None else self.offsets.get(tag, [0.0] * 4)
            box = self._loosen(cands[k].box, shift, th, width, height)
            if any(self._clash(box, tag, e.box, e.tag) for e, _ in kept):
                continue
            parts = list(cands[k].parts) if tag in ("CheckBox", "RadioButton") else []
            kept.append((Element(tag, box, score=float(score[k]), parts=parts), k))
        return [self._marker_tag(e, analysis.features[k]) for e, k in kept]

    def _tag(self, tag: str, row: np.ndarray) -> str:
        """Composite controls (check boxes, radios, dropdowns) are better told by the rules."""
        rule = row[RULE_TAG_COLUMNS]
        j = int(np.argmax(rule))
        if rule[j] >= self.rule_override and TAGS[j] in ("RadioButton", "CheckBox", "ComboBox"):
            return TAGS[j]
        return tag

    @staticmethod
    def _marker_tag(element: Element, row: np.ndarray) -> Element:
        """A 'label' with a check box or radio marker at one end is that control."""
        if element.tag == "Label":
            square_l, circle_l, square_r, circle_r = row[MARKER_COLUMNS]
            if square_l or square_r:
                element.tag = "CheckBox"
            elif circle_l or circle_r:
                element.tag = "RadioButton"
        return element

    @staticmethod
    def _loosen(b: Box, d, th: float, width: int, height: int) -> Box:
        """The ink's box widened the way people draw theirs: edge shifts × text height."""
        return clip(
            (b[0] + d[0] * th, b[1] + d[1] * th, b[2] + d[2] * th, b[3] + d[3] * th), width, height
        )

    def _clash(self, box: Box, tag: str, other: Box, other_tag: str) -> bool:
        if iou(box, other) > self.overlap:
            return True
        containers = ("Paragraph", "Image")
        if tag in containers or other_tag in containers:
            return False
        smaller, larger = sorted((box, other), key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
        return inside_frac(smaller, larger) > 0.7


@lru_cache(maxsize=1)
def default_model() -> SketchModel:
    return SketchModel.load()


def detect(rgb: np.ndarray, ocr_lines=(), model: SketchModel | None = None) -> list[Element]:
    """Elements of a sketch photo (RGB array), boxes in the photo's pixels."""
    analysis = analyse(rgb, ocr_lines)
    found = (model or default_model()).select(analysis)
    back = 1 / analysis.factor
    for element in found:
        element.box = scale(element.box, back)
        element.parts = [scale(p, back) for p in element.parts]
    return found
