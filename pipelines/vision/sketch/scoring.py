"""Detection scores: one-to-one matching of found boxes to human boxes at IoU ≥ 0.5 (best
pairs first), with or without requiring the tags to agree; precision, recall, F1. And how
faithfully a rendered page places the elements: its boxes laid over the sketch's frame,
and how many of their centres fall inside the boxes drawn for them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from .geometry import Box, iou

Tagged = tuple[str, Box]


def match(truth: Sequence[Tagged], found: Sequence[Tagged], with_tag: bool, threshold=0.5):
    """Matched (truth index, found index) pairs."""
    pairs = []
    for i, (t_tag, t_box) in enumerate(truth):
        for j, (f_tag, f_box) in enumerate(found):
            if with_tag and t_tag != f_tag:
                continue
            overlap = iou(t_box, f_box)
            if overlap >= threshold:
                pairs.append((overlap, i, j))
    used_t, used_f, matched = set(), set(), []
    for _, i, j in sorted(pairs, reverse=True):
        if i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
            matched.append((i, j))
    return matched


def prf(tp: int, found: int, truth: int, tp_found: int | None = None) -> dict[str, float]:
    """Scores for ``tp`` matched human boxes of ``truth``; ``tp_found`` (default ``tp``) of
    the ``found`` boxes were matched (they differ per tag when tags need not agree)."""
    p = (tp if tp_found is None else tp_found) / found if found else 0.0
    r = tp / truth if truth else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3),
        "tp": tp, "found": found, "truth": truth,
    }  # fmt: skip


class Tally:
    """Running counts over many sketches, overall and per tag."""

    def __init__(self) -> None:
        # per tag: matched truth boxes, found boxes, truth boxes, matched found boxes
        self.counts = {
            True: defaultdict(lambda: [0, 0, 0, 0]),
            False: defaultdict(lambda: [0, 0, 0, 0]),
        }

    def add(self, truth: Sequence[Tagged], found: Sequence[Tagged]) -> None:
        for with_tag in (True, False):
            matched = match(truth, found, with_tag)
            tally = self.counts[with_tag]
            tally["all"][0] += len(matched)
            tally["all"][1] += len(found)
            tally["all"][2] += len(truth)
            tally["all"][3] += len(matched)
            for tag in {t for t, _ in truth} | {t for t, _ in found}:
                tally[tag][0] += sum(1 for i, _ in matched if truth[i][0] == tag)
                tally[tag][1] += sum(1 for t, _ in found if t == tag)
                tally[tag][2] += sum(1 for t, _ in truth if t == tag)
                tally[tag][3] += sum(1 for _, j in matched if found[j][0] == tag)

    def result(self, with_tag: bool = True) -> dict[str, dict[str, float]]:
        return {tag: prf(*v) for tag, v in sorted(self.counts[with_tag].items())}


def to_sketch_frame(
    rendered: dict[int, Box], drawn: Sequence, frame: Box | None = None
) -> dict[int, Box]:
    """Rendered boxes (index → page pixels) laid over the sketch at one scale, as the page
    scales with its width: the page's ``frame`` (the box standing for the whole drawing;
    by default the rendered elements' extent) onto the ``drawn`` elements' (objects with
    ``box``) left, right and top edges."""
    if not rendered or not drawn:
        return {}
    if frame is None:
        frame = (
            min(b[0] for b in rendered.values()), min(b[1] for b in rendered.values()),
            max(b[2] for b in rendered.values()), 0.0,
        )  # fmt: skip
    rx0, ry0, rx1 = frame[0], frame[1], frame[2]
    dx0, dy0 = min(e.box[0] for e in drawn), min(e.box[1] for e in drawn)
    dx1 = max(e.box[2] for e in drawn)
    k = (dx1 - dx0) / max(1.0, rx1 - rx0)
    return {
        i: (dx0 + (b[0] - rx0) * k, dy0 + (b[1] - ry0) * k, dx0 + (b[2] - rx0) * k,
            dy0 + (b[3] - ry0) * k)
        for i, b in rendered.items()
    }  # fmt: skip


def centre_inside(placed: dict[int, Box], boxes: Sequence[Box]) -> int:
    """How many placed boxes (index → box) have their centre inside ``boxes[index]``."""
    count = 0
    for i, b in placed.items():
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        x0, y0, x1, y1 = boxes[i]
        count += x0 <= cx <= x1 and y0 <= cy <= y1
    return count
