"""Hand-written composition rules over the primitives: boxes become text boxes, buttons,
dropdowns, image placeholders or framed paragraphs by what is inside them; small closed
shapes beside a line of text become check boxes / radio buttons with that text; words group
into phrases; an underlined phrase is a link (or, at the top or written large, a heading);
stacks of flat strokes are paragraphs. The learned detector uses these as candidates and
features; on their own they are a usable fallback."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .elements import Element
from .geometry import Box, inside_frac, union, union_all, v_overlap
from .primitives import Components, Primitive
from .shapes import diag_score

WORD_GAP = 0.5  # letters closer than this (× handwriting height) form a word
PHRASE_GAP = 1.6  # words closer than this (× the smaller word's height) form a phrase
MARKER_GAP = 2.5  # a check box's text starts within this (× handwriting height)


@dataclass
class RuleResult:
    elements: list[Element]
    markers: list[tuple[str, Box]] = field(default_factory=list)  # ("CheckBox"|"RadioButton")
    phrases: list[Box] = field(default_factory=list)


def merge_rows(boxes: list[Box], gap: float, relative: float | None = None) -> list[Box]:
    """Merge boxes that share a row and are closer than ``gap`` pixels (or, with
    ``relative``, closer than that many times the smaller box's height), until stable."""
    boxes = list(boxes)
    while True:
        merged = _merge_once(boxes, gap, relative)
        if len(merged) == len(boxes):
            return merged
        boxes = merged


def _merge_once(boxes: list[Box], gap: float, relative: float | None) -> list[Box]:
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(boxes)), key=lambda i: boxes[i][0])
    for a, i in enumerate(order):
        bi = boxes[i]
        for j in order[a + 1 :]:
            bj = boxes[j]
            limit = gap if relative is None else relative * min(bi[3] - bi[1], bj[3] - bj[1])
            if bj[0] - bi[2] <= limit and v_overlap(bi, bj) > 0.3:
                parent[root(j)] = root(i)
    groups: dict[int, list[Box]] = {}
    for i, box in enumerate(boxes):
        groups.setdefault(root(i), []).append(box)
    return [union_all(g) for g in groups.values()]


def classify_box(mask: np.ndarray, box: Primitive, inner: list[Primitive], th: float) -> str:
    """What a drawn box is, from what is inside it."""
    x0, y0, x1, y1 = (int(v) for v in box.box)
    w, h = x1 - x0, y1 - y0
    band = max(3, int(0.12 * min(w, h)))
    inside = mask[y0 + band : y1 - band, x0 + band : x1 - band] > 0
    if inside.size == 0:
        return "TextBox"
    if diag_score(inside)[0] >= 0.6:
        return "Image"  # a box with an X
    if box.info.get("corner", 1.0) < 0.12 and 0.6 < w / h < 1.6:
        return "Image"  # a large circle: an avatar
    lines = [p for p in inner if p.kind == "line"]
    glyphs = [p for p in inner if p.kind in ("glyph", "small")]
    if len(lines) >= 2 and len(lines) >= len(glyphs):
        return "Paragraph"
    if w > 2.2 * h:  # a dropdown: a triangle or V, often behind a divider, at the right end
        cut = int(inside.shape[1] * 0.8)
        right, left = inside[:, cut:].mean(), inside[:, :cut].mean()
        column = inside[:, int(inside.shape[1] * 0.55) :].mean(0)
        if (right > 0.05 and right > 2.0 * left) or (column.max() > 0.75 and right > 0.03):
            return "ComboBox"
    if any(max(p.width, p.height) >= 0.4 * th for p in glyphs):
        return "Button"
    return "TextBox"


def _squares_beside_text(prims: list[Primitive], th: float) -> None:
    """Large square outlines the size of a line of text with text beside them: markers."""
    glyphs = [p.box for p in prims if p.kind == "glyph"]
    for p in prims:
        if p.kind != "box" or not (0.7 < p.width / p.height < 1.45) or p.width > 4 * th:
            continue
        x0, y0, x1, y1 = p.box
        cy = (y0 + y1) / 2
        beside = [
            g for g in glyphs
            if g[1] < cy < g[3] and (0 <= g[0] - x1 < 2.5 * th or 0 <= x0 - g[2] < 1.2 * th)
        ]  # fmt: skip
        if beside and p.height <= 2.5 * max(g[3] - g[1] for g in beside):
            p.kind = "small"


def _is_letter(small: Primitive, words: list[Box]) -> bool:
    """A small closed shape inside a word or between letters is a letter (o, a, d…)."""
    sb = small.box
    cy = (sb[1] + sb[3]) / 2
    sh = small.height
    row = [w for w in words if w[1] < cy < w[3]]
    if not row:
        return False
    near = any(
        inside_frac(sb, w) > 0.5 or (w[0] < sb[2] + 0.25 * sh and w[2] > sb[0] - 0.25 * sh)
        for w in row
    )
    left = any(w[2] <= sb[0] + 2 and sb[0] - w[2] < 0.6 * sh for w in row)
    right = any(w[0] >= sb[2] - 2 and w[0] - sb[2] < 0.6 * sh for w in row)
    tiny = sh < 0.45 * max(w[3] - w[1] for w in row)
    return near or (left and right) or tiny


def detect_by_rules(mask: np.ndarray, prims: list[Primitive], comps: Components) -> RuleResult:
    """Elements (in working pixels) from the primitives, by the rules above."""
    height, width = mask.shape
    th = comps.text_height
    _squares_beside_text(prims, th)
    elements: list[Element] = []
    consumed: set[int] = set()
    boxes = sorted((p for p in prims if p.kind == "box"), key=lambda p: p.width * p.height)
    for box in boxes:
        inner = [p for p in prims if p is not box and inside_frac(p.box, box.box) > 0.85]
        nested = [p for p in inner if p.kind == "box"]
        if len(nested) >= 2 or (nested and len(inner) > 8):
            continue  # a card or container, not a control
        elements.append(Element(classify_box(mask, box, inner, th), box.box))
        consumed.add(id(box))
        consumed.update(id(p) for p in inner)
    free = [p for p in prims if id(p) not in consumed]
    flat = [p for p in free if p.kind == "line"]
    words = merge_rows([p.box for p in free if p.kind == "glyph"], WORD_GAP * th)
    words = [w for w in words if max(w[2] - w[0], w[3] - w[1]) >= 0.5 * th]
    markers = []
    for small in (p for p in free if p.kind == "small"):
        if _is_letter(small, words):
            words.append(small.box)
        else:
            markers.append(small)
    words = merge_rows(words, WORD_GAP * th)
    phrases = merge_rows(words, 0, relative=PHRASE_GAP)
    result = RuleResult(elements, phrases=list(phrases))
    used: set[Box] = set()
    for marker in markers:
        sb = marker.box
        cy, sh = (sb[1] + sb[3]) / 2, marker.height
        square = marker.info.get("corner", 0) >= 0.1 or marker.info.get("rectness", 0) > 0.87
        tag = "CheckBox" if square else "RadioButton"
        result.markers.append((tag, sb))
        row = [b for b in phrases if b[1] - 0.3 * sh < cy < b[3] + 0.3 * sh and b not in used]
        right = [b for b in row if b[0] >= sb[2] - 0.3 * th and b[0] - sb[2] < MARKER_GAP * th]
        left = [b for b in row if b[2] <= sb[0] + 0.3 * th and sb[0] - b[2] < 1.2 * th]
        text = min(right, key=lambda b: b[0]) if right else None
        if text is None and left:
            text = max(left, key=lambda b: b[2])
        if text is not None:
            used.add(text)
        elements.append(Element(tag, union(sb, text) if text else sb, parts=[sb]))
    texts = [b for b in phrases if b not in used]
    median = float(np.median([b[3] - b[1] for b in texts])) if texts else th
    top = min((b[1] for b in texts), default=0)
    underlines: set[int] = set()
    for b in texts:
        h = b[3] - b[1]
        line = next((p for p in flat if _underlines(p.box, b, th)), None)
        first_row, big = b[1] <= top + 0.5 * median, h >= 1.3 * median
        if line is not None:
            underlines.add(id(line))
            tag = "Heading" if first_row or big else "Link"
            elements.append(Element(tag, union(b, line.box)))
        elif (first_row and (big or b[2] - b[0] > 0.25 * width)) or (big and b[1] < 0.3 * height):
            elements.append(Element("Heading", b))
        else:
            elements.append(Element("Label", b))
    strokes = sorted((p.box for p in flat if id(p) not in underlines), key=lambda b: b[1])
    for group in stack(strokes, 1.8 * th, 0.4):
        joined = union_all(group)
        if len(group) >= 2 or joined[2] - joined[0] > 3 * th:
            elements.append(Element("Paragraph", joined))
    return result


def _underlines(line: Box, text: Box, th: float) -> bool:
    overlap = min(line[2], text[2]) - max(line[0], text[0])
    return (
        overlap > 0.6 * (text[2] - text[0])
        and -0.5 * th < line[1] - text[3] < 0.8 * th
        and line[3] > text[3] - 0.2 * th
    )


def stack(boxes: list[Box], max_gap: float, min_overlap: float, min_gap: float = -1e9):
    """Group boxes (sorted top to bottom) into vertical stacks: each box joins the first
    stack whose last box overlaps it horizontally and ends less than ``max_gap`` above it."""
    groups: list[list[Box]] = []
    for box in boxes:
        for group in groups:
            last = group[-1]
            overlap = min(last[2], box[2]) - max(last[0], box[0])
            narrower = min(box[2] - box[0], last[2] - last[0])
            if overlap > min_overlap * narrower and min_gap <= box[1] - last[3] < max_gap:
                group.append(box)
                break
        else:
            groups.append([box])
    return groups
