"""The ink's connected pieces, each sorted into a kind of drawn primitive: a box (a large
closed outline), a small closed shape (a check box square or radio circle, or a letter
like "o"), a flat line (underline, paragraph scribble, separator) or a glyph (handwriting).
Everything is measured in units of the sketch's own handwriting height."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .geometry import Box, inside_frac, iou
from .shapes import corner_score, hole_ratio, ring_score, shape_stats


@dataclass
class Primitive:
    kind: str  # "box", "small", "line", "glyph" or "edge" (a piece of a box's outline)
    box: Box
    comp: int  # label in Components.labels (negative: found after a wider closing)
    info: dict[str, float] = field(default_factory=dict)

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


@dataclass
class Components:
    """Connected pieces of ink: OpenCV labels and stats, and the handwriting height."""

    labels: np.ndarray
    stats: np.ndarray
    text_height: float

    def box(self, i: int) -> Box:
        x, y, w, h, _ = self.stats[i]
        return (float(x), float(y), float(x + w), float(y + h))

    def crop(self, i: int) -> np.ndarray:
        x, y, w, h, _ = self.stats[i]
        return self.labels[y : y + h, x : x + w] == i


def text_height(stats: np.ndarray) -> float:
    """Median height of letter-like pieces: the scale everything else is measured in."""
    heights = [
        s[3] for s in stats[1:] if 6 <= s[3] <= 120 and s[2] < 3 * s[3] and s[4] > 15
    ]  # fmt: skip
    return float(np.median(heights)) if heights else 25.0


def components(mask: np.ndarray) -> Components:
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    return Components(labels, stats, text_height(stats))


def _classify(sub: np.ndarray, th: float) -> tuple[str, dict[str, float]]:
    h, w = sub.shape
    size = max(w, h) / th
    if w >= 1.5 * th and h <= max(0.5 * th, 0.15 * w):
        return "line", {}
    if min(w, h) < 0.6 * th:
        return "glyph", {}
    info = shape_stats(sub)
    info.update(corner=corner_score(sub), ring=ring_score(sub), hole=hole_ratio(sub))
    cov, rect, fill, corner = info["cov"], info["rectness"], info["fill"], info["corner"]
    aspect = w / h
    closed = cov >= 0.85 and rect >= 0.78 and fill <= 0.45
    if closed and size >= 2.4 and min(w, h) >= 1.2 * th:
        return "box", info
    if closed and 0.55 < aspect < 1.8:
        return "small", info
    squarish = 0.6 < aspect < 1.65
    hollow = info["hole"] >= 0.2 and fill <= 0.8
    cornered = corner >= 0.12 and rect >= 0.85 and fill <= 0.5
    if squarish and size >= 0.75 and cov >= 0.9 and (hollow or cornered):
        return "small", info
    ticked = cov >= 0.7 and corner >= 0.18 and rect >= 0.65 and fill <= 0.5
    if squarish and size >= 1.2 and ticked:
        return "small", info  # a ticked square: the tick breaks its outline
    if size >= 3 and cov >= 0.8 and fill <= 0.3 and min(w, h) >= 1.2 * th:
        return "box", info  # a box with one side left open
    return "glyph", info


def find_primitives(mask: np.ndarray, comps: Components) -> list[Primitive]:
    """Every sizeable piece of ink, classified; plus boxes drawn with broken strokes."""
    th = comps.text_height
    found = []
    for i in range(1, len(comps.stats)):
        x, y, w, h, a = comps.stats[i]
        if max(w, h) < 0.3 * th or a < 10:
            continue
        kind, info = _classify(comps.crop(i), th)
        found.append(Primitive(kind, comps.box(i), i, info))
    # Boxes drawn with gaps between strokes: look again after closing wider gaps.
    wide = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(wide, connectivity=8)
    known = [p.box for p in found if p.kind == "box"]
    for i in range(1, count):
        x, y, w, h, _ = stats[i]
        if max(w, h) < 2.4 * th or min(w, h) < 1.2 * th:
            continue
        box = (float(x), float(y), float(x + w), float(y + h))
        if any(iou(box, k) > 0.6 for k in known):
            continue
        sub = labels[y : y + h, x : x + w] == i
        info = shape_stats(sub)
        if info["cov"] >= 0.85 and info["rectness"] >= 0.8 and info["fill"] <= 0.4:
            info.update(corner=corner_score(sub), ring=ring_score(sub))
            found.append(Primitive("box", box, -i, info))
            for p in found:  # the box's own strokes are not text
                if p.kind in ("glyph", "line", "small") and inside_frac(p.box, box) > 0.9:
                    x0, y0, x1, y1 = p.box
                    edge_gap = min(x0 - box[0], y0 - box[1], box[2] - x1, box[3] - y1)
                    if edge_gap < 0.25 * th and (p.width > 0.5 * w or p.height > 0.5 * h):
                        p.kind = "edge"
    return found
