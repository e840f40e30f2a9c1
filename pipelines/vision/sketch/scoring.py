"""Detection scores: one-to-one matching of found boxes to human boxes at IoU ≥ 0.5 (best
pairs first), with or without requiring the tags to agree; precision, recall, F1."""

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
