"""A fixed-length vector of hand-made measurements for each candidate box: its size and
place (in handwriting heights and page fractions), how its ink is spread (outline on all
sides, an X, a right-hand arrow, an underline, rows of text), the shape of its first, last
and largest pieces and of its neighbours, what OCR read there, and what the rules said."""

from __future__ import annotations

import numpy as np

from .candidates import KINDS, Candidate, CandidateSet
from .elements import TAGS
from .geometry import Box, inside_frac, iou
from .primitives import Components
from .rules import RuleResult
from .shapes import (
    border_profile,
    corner_score,
    diag_score,
    hole_ratio,
    ring_score,
    row_bands,
    shape_stats,
)


class FeatureContext:
    """Everything about one sketch that candidate features are measured against."""

    def __init__(
        self, mask: np.ndarray, comps: Components, ocr_lines, cands: CandidateSet, rules: RuleResult
    ):
        self.mask, self.comps, self.th = mask, comps, comps.text_height
        self.ocr = [(tuple(t.box), t.text, float(getattr(t, "score", 1.0))) for t in ocr_lines]
        self.outlines, self.strokes, self.rules = cands.outlines, cands.strokes, rules
        s = comps.stats
        keep = [
            i for i in range(1, len(s)) if s[i, 4] >= 12 and max(s[i, 2], s[i, 3]) >= 0.25 * self.th
        ]  # fmt: skip
        self.ids = np.array(keep, int)
        sel = s[self.ids] if keep else np.zeros((0, 5), int)
        self.x0, self.y0 = sel[:, 0], sel[:, 1]
        self.x1, self.y1 = sel[:, 0] + sel[:, 2], sel[:, 1] + sel[:, 3]
        self.areas = sel[:, 2] * sel[:, 3]
        self._shapes: dict[int, list[float]] = {}
        heights = [b[3] - b[1] for b, _, _ in self.ocr]
        self.ocr_median = float(np.median(heights)) if heights else self.th
        self.ocr_max = float(max(heights)) if heights else self.th
        self.ocr_tops = sorted(b[1] for b, _, _ in self.ocr)
        self.paras = [c.box for c in cands.candidates if c.kind == "para"]
        self.ink_top = float(self.y0.min()) if len(self.y0) else 0.0

    def _shape(self, k: int) -> list[float]:
        if k not in self._shapes:
            stats = shape_stats(self.comps.crop(self.ids[k]))
            self._shapes[k] = [stats["cov"], stats["rectness"], stats["fill"]]
        return self._shapes[k]

    def _piece(self, k: int | None, ref_h: float) -> list[float]:
        if k is None:
            return [0.0] * 6
        w, h = self.x1[k] - self.x0[k], self.y1[k] - self.y0[k]
        return [1.0, w / self.th, h / self.th, h / max(1, ref_h), *self._shape(k)[1:3]]

    def _pieces(self, box: Box) -> list[float]:
        x0, y0, x1, y1 = box
        th, h = self.th, max(1.0, y1 - y0)
        inside = np.where(
            (self.x0 >= x0 - 2) & (self.y0 >= y0 - 2) & (self.x1 <= x1 + 2) & (self.y1 <= y1 + 2)
        )[0]
        if len(inside):
            main = inside[np.argmax(self.areas[inside])]
            largest = [*self._shape(main), self.areas[main] / max(1.0, (x1 - x0) * (y1 - y0))]
            first = inside[np.argmin(self.x0[inside])]
            last = inside[np.argmax(self.x1[inside])]
            rest = inside[inside != first]
            gap_first = (self.x0[rest].min() - self.x1[first]) / th if len(rest) else 0.0
            rest = inside[inside != last]
            gap_last = (self.x0[last] - self.x1[rest].max()) / th if len(rest) else 0.0
            heights = (self.y1[inside] - self.y0[inside]) / th
            counts = [len(inside), float(np.median(heights)), float(heights.max())]
        else:
            largest, first, last, gap_first, gap_last = [0.0] * 4, None, None, 0.0, 0.0
            counts = [0, 0, 0]
        cy = (y0 + y1) / 2
        row = (self.y0 < cy) & (self.y1 > cy)
        lefts = np.where(row & (self.x1 <= x0 + 2) & (self.x1 >= x0 - 2.5 * th))[0]
        left = lefts[np.argmax(self.x1[lefts])] if len(lefts) else None
        rights = np.where(row & (self.x0 >= x1 - 2) & (self.x0 <= x1 + 2.5 * th))[0]
        right = rights[np.argmin(self.x0[rights])] if len(rights) else None
        left_gap = (x0 - self.x1[left]) / th if left is not None else 3.0
        right_gap = (self.x0[right] - x1) / th if right is not None else 3.0
        overlaps = (self.x0 < x1) & (self.x1 > x0)
        below = (self.y0 >= y1 - 2) & (self.y0 <= y1 + 1.5 * th) & overlaps
        above = (self.y1 <= y0 + 2) & (self.y1 >= y0 - 1.5 * th) & overlaps
        rank = sum(t < y0 - 0.5 * h for t in self.ocr_tops)
        page = [
            h / self.ocr_median, h / self.ocr_max, rank, rank / max(1, len(self.ocr_tops)),
            int(below.sum()), int(above.sum()),
        ]  # fmt: skip
        return [
            *largest, *counts,
            *self._piece(first, h), gap_first, *self._piece(last, h), gap_last,
            *self._piece(left, h), left_gap, *self._piece(right, h), right_gap, *page,
        ]  # fmt: skip

    def _ink(self, cand: Candidate) -> list[float]:
        height, width = self.mask.shape
        th = self.th
        x0, y0 = max(0, int(cand.box[0])), max(0, int(cand.box[1]))
        x1, y1 = (
            min(width, max(int(cand.box[2]), x0 + 1)),
            min(height, max(int(cand.box[3]), y0 + 1)),
        )
        box = (x0, y0, x1, y1)
        w, h = x1 - x0, y1 - y0
        sub = self.mask[y0:y1, x0:x1] > 0
        band = max(3, int(0.12 * min(w, h)))
        top, bottom, left, right = border_profile(sub, band)
        if h > 2 * band + 2 and w > 2 * band + 2:
            inner = sub[band : h - band, band : w - band]
        else:
            inner = np.zeros((1, 1), bool)
        diag_low, diag_high = diag_score(inner) if inner.size > 1 else (0.0, 0.0)
        if inner.shape[1] > 8:
            cut = int(inner.shape[1] * 0.78)
            r_ink, l_ink = float(inner[:, cut:].mean()), float(inner[:, :cut].mean())
            vline = float(inner.mean(0)[int(inner.shape[1] * 0.6) :].max())
        else:
            r_ink = l_ink = vline = 0.0
        bottom_band = sub[int(h * 0.7) :, :]
        under = float(bottom_band.mean(1).max()) if bottom_band.size else 0.0
        under_cov = float(bottom_band.any(0).mean()) if bottom_band.size else 0.0
        others = [o for o in self.outlines if iou(o, box) < 0.8]
        outlines_in = sum(1 for o in others if inside_frac(o, box) > 0.9)
        in_outline = max([inside_frac(box, o) for o in others] or [0.0])
        is_outline = max([iou(o, box) for o in self.outlines] or [0.0])
        strokes_in = sum(1 for s in self.strokes if inside_frac(s, box) > 0.8)
        best, best_text, best_score, cover = 0.0, "", 0.0, 0.0
        for obox, text, score in self.ocr:
            overlap = iou(obox, box)
            if overlap > best:
                best, best_text, best_score = overlap, text, score
            cover += inside_frac(obox, box) * (obox[2] - obox[0]) * (obox[3] - obox[1])
        cover /= max(1, w * h)
        text = cand.text or best_text
        letters = max(1, sum(ch.isalpha() for ch in text))
        upper = sum(ch.isupper() for ch in text) / letters
        digits = sum(ch.isdigit() for ch in text) / max(1, len(text))
        money = float("$" in text or "#" in text)
        part = [0.0] * 6
        if cand.parts and cand.kind == "choice":
            px0, py0, px1, py1 = (int(v) for v in cand.parts[0])
            ps = self.mask[py0:py1, px0:px1] > 0
            if ps.size:
                part = [
                    ring_score(ps), corner_score(ps), float(ps.mean()), (py1 - py0) / max(1, h),
                    hole_ratio(ps), float(px0 - x0 < 3),
                ]  # fmt: skip
        underlined = float(
            any(
                min(s[2], x1) - max(s[0], x0) > 0.6 * w
                and y1 - 0.6 * th < s[3] <= y1 + 3
                and s[1] > y0 + 0.3 * h
                for s in self.strokes
            )
        )
        return [
            w / th, h / th, np.log(max(w, 1) / max(h, 1)), np.log(max(1, w * h) / th**2),
            w / width, h / height, x0 / width, y0 / height, x1 / width, y1 / height,
            (x0 + x1) / 2 / width, (y0 + y1) / 2 / height,
            float(sub.mean()), top, bottom, left, right, min(top, bottom, left, right),
            (top + bottom + left + right) / 4, min(left, right), min(top, bottom),
            float(inner.mean()), diag_low, diag_high, r_ink, l_ink, r_ink - l_ink, vline,
            under, under_cov, ring_score(sub), corner_score(sub), row_bands(sub),
            outlines_in, in_outline, is_outline, strokes_in, len(cand.parts),
            best, cover, len(text), len(text.split()), upper, digits, money, best_score,
            *part, underlined, th / height,
        ]  # fmt: skip

    def _rules(self, cand: Candidate) -> list[float]:
        x0, y0, x1, y1 = cand.box
        th = self.th
        overlap = [
            max([iou(cand.box, e.box) for e in self.rules.elements if e.tag == tag] or [0.0])
            for tag in TAGS
        ]
        markers = [0.0] * 4  # check box / radio at the left end, at the right end
        for tag, m in self.rules.markers:
            cy = (m[1] + m[3]) / 2
            if not y0 - 0.2 * th < cy < y1 + 0.2 * th:
                continue
            k = 0 if tag == "CheckBox" else 1
            if x0 - 0.5 * th <= m[0] <= x0 + th or x0 - 2.5 * th < m[2] <= x0 + 0.5 * th:
                markers[k] = 1.0
            if x1 - th <= m[2] <= x1 + 0.5 * th or x1 - 0.5 * th <= m[0] < x1 + 1.2 * th:
                markers[2 + k] = 1.0
        return overlap + markers

    def _context(self, box: Box) -> list[float]:
        """What sits round the box: scribbled lines, outlines or text just below, above or
        beside it, long rules under or over it, how alone it is on its row, how high up."""
        x0, y0, x1, y1 = box
        th, width = self.th, self.mask.shape[1]
        w = max(1.0, x1 - x0)

        def across(b: Box) -> bool:
            return min(b[2], x1) - max(b[0], x0) > 0.3 * min(w, b[2] - b[0])

        def along(b: Box) -> bool:
            return min(b[3], y1) - max(b[1], y0) > 0.5 * min(y1 - y0, b[3] - b[1])

        sides = {  # how far a box starts past each side, whether it faces it, the cap (in th)
            "below": (lambda b: b[1] - y1, across, 3.0),
            "above": (lambda b: y0 - b[3], across, 3.0),
            "right": (lambda b: b[0] - x1, along, 5.0),
            "left": (lambda b: x0 - b[2], along, 5.0),
        }

        def gap(boxes, side: str) -> float:
            offset, faces, cap = sides[side]
            gaps = [offset(b) for b in boxes if faces(b) and -0.3 * th < offset(b) < cap * th]
            return min(gaps) / th if gaps else cap

        outlines = [o for o in self.outlines if inside_frac(o, box) < 0.5]
        texts = [b for b, _, _ in self.ocr if inside_frac(b, box) < 0.5]
        long_rules = [s for s in self.strokes if s[2] - s[0] > max(1.5 * w, 0.3 * width)]
        cy = (y0 + y1) / 2
        row = (self.y0 < cy) & (self.y1 > cy) & ((self.x1 < x0 - th) | (self.x0 > x1 + th))
        row_ink = float((self.x1[row] - self.x0[row]).sum()) / width
        return [
            *(gap(self.paras, side) for side in ("below", "above")),
            *(gap(outlines, side) for side in ("below", "above", "right", "left")),
            *(gap(texts, side) for side in ("below", "above", "right", "left")),
            *(gap(long_rules, side) for side in ("below", "above")),
            row_ink, float(row.sum()), (y0 - self.ink_top) / th,
        ]  # fmt: skip

    def vector(self, cand: Candidate) -> list[float]:
        kind = [float(cand.kind == k) for k in KINDS]
        return (
            self._ink(cand) + kind + self._pieces(cand.box) + self._context(cand.box)
            + self._rules(cand)
        )  # fmt: skip

    def matrix(self, cands: list[Candidate]) -> np.ndarray:
        if not cands:  # a blank sheet: nothing to describe (reshape(0, -1) cannot be done)
            return np.zeros((0, 0), np.float32)
        return np.array([self.vector(c) for c in cands], dtype=np.float32).reshape(len(cands), -1)


RULE_TAG_COLUMNS = slice(-14, -4)  # the rules' IoU per tag, in TAGS order
MARKER_COLUMNS = slice(-4, None)
