"""Candidate element boxes, many and overlapping, for the classifier to choose from: each
ink component, each hole-bearing outline, clusters of handwriting at three word spacings,
OCR text lines, a check box/radio marker with the text beside it, text with the stroke
underlining it, stacks of scribbled lines or of text lines, and the rule-based elements."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .geometry import Box, iou, union, union_all
from .primitives import Components
from .rules import RuleResult, stack
from .shapes import border_profile

KINDS = (
    "comp", "hole", "line0.35", "line0.8", "line1.6", "ocr", "choice", "para", "textstack",
    "under", "rule",
)  # fmt: skip
LINE_SCALES = (0.35, 0.8, 1.6)  # horizontal joining distance, × handwriting height


@dataclass
class Candidate:
    box: Box  # working pixels
    kind: str  # which generator proposed it (one of KINDS)
    text: str = ""
    parts: list[Box] = field(default_factory=list)


@dataclass
class CandidateSet:
    candidates: list[Candidate]
    outlines: list[Box]  # components whose ink runs round all four sides of their box
    strokes: list[Box]  # flat strokes (underlines, paragraph scribbles)


def _is_outline(sub: np.ndarray, th: float) -> bool:
    h, w = sub.shape
    if w < 0.6 * th or h < 0.6 * th:
        return False
    return min(border_profile(sub, max(3, int(0.12 * min(w, h))))) > 0.6


def _clusters(mask: np.ndarray, kx: int, ky: int, th: float) -> list[Box]:
    joined = cv2.dilate(mask, np.ones((ky, kx), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    boxes = []
    for x, y, w, h, _ in stats[1:count]:
        box = (x + kx // 2, y + ky // 2, x + w - (kx - kx // 2), y + h - (ky - ky // 2))
        if box[2] - box[0] >= 0.4 * th or box[3] - box[1] >= 0.4 * th:
            boxes.append(tuple(float(v) for v in box))
    return boxes


def _runs(group: list[Box], longest: int) -> list[tuple[Box, list[Box]]]:
    """Every run of 2..longest consecutive boxes of a stack, joined."""
    runs = []
    for a in range(len(group)):
        for z in range(a + 1, min(len(group), a + longest)):
            runs.append((union_all(group[a : z + 1]), group[a : z + 1]))
    return runs


def generate(mask: np.ndarray, comps: Components, ocr_lines, rules: RuleResult) -> CandidateSet:
    """All candidates for one sketch (working pixels). ``ocr_lines``: objects with ``box``
    (working pixels) and ``text``."""
    th = comps.text_height
    found: list[Candidate] = []
    outline_ids = []
    for i in range(1, len(comps.stats)):
        x, y, w, h, a = comps.stats[i]
        if max(w, h) < 0.35 * th or a < 12:
            continue
        found.append(Candidate(comps.box(i), "comp"))
        if _is_outline(comps.crop(i), th):
            outline_ids.append(i)
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    contours, hierarchy = cv2.findContours(closed, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is not None:
        for k, contour in enumerate(contours):
            parent = hierarchy[0][k][3]
            x, y, w, h = cv2.boundingRect(contour)
            if parent < 0 or w < 0.5 * th or h < 0.5 * th:
                continue
            px, py, pw, ph = cv2.boundingRect(contours[parent])
            if pw * ph <= 4 * w * h:  # a large hole: the inside of a drawn outline
                found.append(Candidate((px, py, px + pw, py + ph), "hole"))
    text_mask = mask.copy()
    if outline_ids:
        text_mask[np.isin(comps.labels, outline_ids)] = 0
    lines: dict[float, list[Box]] = {}
    for scale in LINE_SCALES:
        kx, ky = max(3, int(scale * th)), max(3, int(0.25 * th))
        lines[scale] = _clusters(text_mask, kx, ky, th)
        found += [Candidate(b, f"line{scale}") for b in lines[scale]]
    found += [Candidate(tuple(t.box), "ocr", text=t.text) for t in ocr_lines]
    texts = lines[0.8] + lines[1.6] + [tuple(t.box) for t in ocr_lines]
    for _, marker in rules.markers:
        cy = (marker[1] + marker[3]) / 2
        for b in texts:
            if not b[1] < cy < b[3]:
                continue
            after = b[0] > marker[2] - 0.3 * th and b[0] - marker[2] < 2.5 * th
            before = b[2] < marker[0] + 0.3 * th and marker[0] - b[2] < 1.5 * th
            if after or before:
                found.append(Candidate(union(marker, b), "choice", parts=[marker]))
    flat = [
        b for s in (0.35, 0.8) for b in lines[s]
        if b[3] - b[1] < 0.6 * th and b[2] - b[0] > 1.5 * th
    ]  # fmt: skip
    for b in texts:
        for line in flat:
            overlap = min(line[2], b[2]) - max(line[0], b[0])
            below = -0.4 * th < line[1] - b[3] < 0.8 * th and line[3] > b[3]
            if overlap > 0.6 * (b[2] - b[0]) and below:
                found.append(Candidate(union(b, line), "under", parts=[line]))
    for scale in (0.8, 1.6):
        scribbles = [
            b for b in lines[scale] if b[3] - b[1] < 0.8 * th and b[2] - b[0] > 2.0 * th
        ]  # fmt: skip
        for group in stack(sorted(scribbles, key=lambda b: b[1]), 1.6 * th, 0.3, -0.2 * th):
            found += [Candidate(box, "para", parts=run) for box, run in _runs(group, 8)]
    text_lines = sorted(lines[1.6], key=lambda b: b[1])
    for group in stack(text_lines, 0.9 * th, 0.3, -0.2 * th):
        found += [Candidate(box, "textstack", parts=run) for box, run in _runs(group, 5)]
    found += [Candidate(e.box, "rule", parts=list(e.parts)) for e in rules.elements]
    unique: list[Candidate] = []
    for cand in found:
        if not any(o.kind == cand.kind and iou(cand.box, o.box) > 0.95 for o in unique):
            unique.append(cand)
    strokes = [
        b for s in (0.35, 0.8) for b in lines[s]
        if b[3] - b[1] < 0.7 * th and b[2] - b[0] > 1.2 * th
    ]  # fmt: skip
    return CandidateSet(unique, [comps.box(i) for i in outline_ids], strokes)
