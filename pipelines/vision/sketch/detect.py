"""Find the controls in a sketch's ink: drawn boxes (text boxes, buttons, dropdowns, image
placeholders), check boxes and radio buttons with their labels, headings, labels, links and
scribbled paragraphs. OpenCV geometry on the ink mask; OCR reads the words afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

import cv2
import numpy as np

TAGS = (
    "Heading", "Label", "TextBox", "Button", "CheckBox", "RadioButton", "ComboBox", "Image",
    "Paragraph", "Link",
)  # fmt: skip

Box = tuple[int, int, int, int]  # x0, y0, x1, y1


@dataclass
class Element:
    """One control found in the sketch (box in working pixels until scaled)."""

    tag: str
    box: Box
    text: str = ""
    parts: list[Box] = field(default_factory=list)  # e.g. the square of a check box
    ident: str | None = None  # the HTML id given to its control
    label: str | None = None  # the text of the label that names it

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


@dataclass
class Shape:
    kind: str  # "rect" or "circle"
    outer: Box
    inner: Box
    hole: np.ndarray | None = None  # the inside's contour


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _inside(inner: Box, outer: Box, slack: int = 4) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def find_shapes(mask: np.ndarray) -> list[Shape]:
    """Closed drawn shapes: rectangles (by their hole's corners) and circles."""
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    contours, hierarchy = cv2.findContours(closed, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    shapes = []
    for index, contour in enumerate(contours):
        parent = hierarchy[0][index][3]
        if parent < 0:
            # An X inside a box splits its inside into triangles: recognise the whole.
            x, y, w, h = cv2.boundingRect(contour)
            region = mask[y : y + h, x : x + w]
            if w > 40 and h > 30 and _framed(region) and _diagonal_ink(region) > 0.85:
                shapes.append(Shape("cross", (x, y, x + w, y + h), (x, y, x + w, y + h)))
            continue  # other shapes are recognised by their holes
        x, y, w, h = cv2.boundingRect(contour)
        if w < 10 or h < 10:
            continue
        area = cv2.contourArea(contour)
        perimeter = cv2.arcLength(contour, True)
        if perimeter <= 0:
            continue
        rectangularity = area / (w * h)
        circularity = 4 * np.pi * area / perimeter**2
        corners = len(cv2.approxPolyDP(contour, 0.04 * perimeter, True))
        px, py, pw, ph = cv2.boundingRect(contours[parent])
        outer = (px, py, px + pw, py + ph)
        inner = (x, y, x + w, y + h)
        standalone = pw <= 1.6 * w + 12 and ph <= 1.6 * h + 12  # not a letter's hole
        small = max(w, h) < 60
        if corners <= 6 and rectangularity > 0.72 and (standalone or not small):
            shapes.append(Shape("rect", outer, inner, contour))
        elif circularity > 0.72 and small and standalone and min(w, h) >= 12:
            shapes.append(Shape("circle", outer, inner, contour))
    # A double-drawn outline gives nested holes: keep the outermost.
    shapes.sort(key=lambda s: -(s.outer[2] - s.outer[0]) * (s.outer[3] - s.outer[1]))
    kept: list[Shape] = []
    for shape in shapes:
        if not any(
            _inside(shape.outer, k.outer, 2)
            and _inside(shape.inner, k.outer, 2)
            and (k.inner[2] - k.inner[0]) * (k.inner[3] - k.inner[1])
            < 2.2 * (shape.outer[2] - shape.outer[0]) * (shape.outer[3] - shape.outer[1])
            for k in kept
        ):
            kept.append(shape)
    return kept


def _framed(region: np.ndarray) -> bool:
    """Inked along all four sides (a drawn box)."""
    ink = region > 0
    band = max(3, min(ink.shape) // 12)
    sides = (
        ink[:band].any(axis=0).mean(),
        ink[-band:].any(axis=0).mean(),
        ink[:, :band].any(axis=1).mean(),
        ink[:, -band:].any(axis=1).mean(),
    )
    return min(sides) > 0.7


def _diagonal_ink(inner_mask: np.ndarray) -> float:
    """How much of both diagonals of a box's inside is inked (an X: image placeholder)."""
    h, w = inner_mask.shape
    if h < 8 or w < 8:
        return 0.0
    thick = cv2.dilate(inner_mask, np.ones((9, 9), np.uint8))
    t = np.linspace(0.1, 0.9, 40)
    down = thick[(t * (h - 1)).astype(int), (t * (w - 1)).astype(int)] > 0
    up = thick[((1 - t) * (h - 1)).astype(int), (t * (w - 1)).astype(int)] > 0
    return float(min(down.mean(), up.mean()))


def classify_box(mask: np.ndarray, shape: Shape, width: int) -> str | None:
    """What a drawn rectangle is, from what is inside it."""
    x0, y0, x1, y1 = shape.inner
    w, h = x1 - x0, y1 - y0
    inside = np.zeros(mask.shape, np.uint8)
    if shape.hole is not None:
        cv2.drawContours(inside, [shape.hole], -1, 255, thickness=-1)
        inside = cv2.erode(inside, np.ones((7, 7), np.uint8))
    else:
        inside[y0 + 4 : y1 - 4, x0 + 4 : x1 - 4] = 255
    inner = np.where(inside > 0, mask, 0)[y0:y1, x0:x1]
    if inner.size == 0:
        return None
    if max(w, h) < 0.06 * width and 0.45 < w / max(h, 1) < 2.2:
        return "CheckBox"
    if _diagonal_ink(inner) > 0.75:
        return "Image"
    ink = inner > 0
    fraction = ink.sum() / max(1, (inside[y0:y1, x0:x1] > 0).sum())
    right = ink[:, int(ink.shape[1] * 0.78) :]
    left = ink[:, : int(ink.shape[1] * 0.78)]
    if w > 2.2 * h and right.mean() > 0.04 and left.mean() < 0.02:
        return "ComboBox"
    if fraction > 0.015:
        return "Button"
    return "TextBox"


def _clusters(mask: np.ndarray, kx: int, ky: int) -> list[Box]:
    joined = cv2.dilate(mask, np.ones((ky, kx), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    boxes = []
    for i in range(1, count):
        x, y, w, h, area = stats[i]
        boxes.append((x + kx // 2, y + ky // 2, x + w - kx // 2, y + h - ky // 2))
    return [b for b in boxes if b[2] - b[0] >= 6 and b[3] - b[1] >= 6]


def _is_line_stroke(mask: np.ndarray, box: Box) -> bool:
    """A scribbled line standing for a line of paragraph text: long and flat."""
    x0, y0, x1, y1 = box
    return (x1 - x0) > 6 * max(1, y1 - y0) and (y1 - y0) < 22


def _underlined(mask: np.ndarray, box: Box) -> bool:
    """A horizontal stroke along the bottom of a word: a link."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    band = mask[max(y0, y1 - max(4, h // 4)) : y1, x0:x1] > 0
    if band.size == 0:
        return False
    covered = band.any(axis=0).mean()
    rows = band.mean(axis=1)
    return covered > 0.85 and rows.max() > 0.6


def detect(mask: np.ndarray) -> list[Element]:
    """Every element in the ink mask (working pixels)."""
    height, width = mask.shape
    elements: list[Element] = []
    shapes = find_shapes(mask)
    text_mask = mask.copy()
    squares, circles = [], []
    for shape in shapes:
        if shape.kind == "cross":
            if not any(_inside(shape.outer, e.box) for e in elements if e.tag == "Image"):
                elements.append(Element("Image", shape.outer))
                x0, y0, x1, y1 = shape.outer
                text_mask[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2] = 0
            continue
        if shape.kind == "circle":
            if max(shape.outer[2] - shape.outer[0], shape.outer[3] - shape.outer[1]) < 0.05 * width:
                circles.append(shape.outer)
            continue
        tag = classify_box(mask, shape, width)
        if tag is None:
            continue
        if tag == "CheckBox":
            squares.append(shape.outer)
            continue
        elements.append(Element(tag, shape.outer))
        x0, y0, x1, y1 = shape.outer
        text_mask[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2] = 0
    # Drawn boxes that hold other boxes are cards/containers, not controls.
    boxes = [e for e in elements]
    for e in boxes:
        inside = sum(1 for o in boxes if o is not e and _inside(o.box, e.box))
        if inside >= 2:
            elements.remove(e)

    clusters = _clusters(text_mask, kx=max(9, width // 24), ky=5)
    strokes = [c for c in clusters if _is_line_stroke(text_mask, c)]
    words = [c for c in clusters if c not in strokes]
    elements += _paragraphs(strokes)
    typical = median([c[3] - c[1] for c in words]) if words else 20
    for cluster in list(words):
        if _open_box(text_mask, cluster):
            elements.append(Element("TextBox", cluster))
            words.remove(cluster)
        elif cluster[3] - cluster[1] < 0.45 * typical and cluster[2] - cluster[0] < typical:
            words.remove(cluster)  # a speck: punctuation, a stray mark
    for cluster in words:
        square = next((s for s in squares if _inside(s, cluster, 6)), None)
        circle = next((c for c in circles if _inside(c, cluster, 6)), None)
        if square is not None:
            elements.append(Element("CheckBox", cluster, parts=[square]))
            squares.remove(square)
        elif circle is not None:
            elements.append(Element("RadioButton", cluster, parts=[circle]))
            circles.remove(circle)
        elif _underlined(text_mask, cluster):
            elements.append(Element("Link", cluster))
        elif _heading(cluster, words, elements, typical, height):
            elements.append(Element("Heading", cluster))
        elif (cluster[2] - cluster[0]) * (cluster[3] - cluster[1]) > 150:
            elements.append(Element("Label", cluster))
    elements += [Element("CheckBox", s, parts=[s]) for s in squares]
    elements += [Element("RadioButton", c, parts=[c]) for c in circles]
    return elements


def _heading(cluster: Box, words: list[Box], elements: list[Element], typical: float,
             height: int) -> bool:  # fmt: skip
    """Big letters, or the first line of text, alone in its row near the top."""
    h = cluster[3] - cluster[1]
    if h > 1.3 * typical and (cluster[2] - cluster[0]) > 2 * h:
        return True
    if cluster[1] > 0.3 * height or min(w[1] for w in words) < cluster[1]:
        return False
    centre = (cluster[1] + cluster[3]) / 2
    same_row = [
        b
        for b in [w for w in words if w != cluster] + [e.box for e in elements]
        if b[1] <= centre <= b[3]
    ]
    return not same_row and (cluster[2] - cluster[0]) > 2.5 * h


def _open_box(mask: np.ndarray, box: Box) -> bool:
    """A drawn box whose outline did not close: long inked rows along its top and bottom,
    little ink in between."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if w < 3 * h or h < 18:
        return False
    region = mask[y0:y1, x0:x1] > 0
    rows = region.mean(axis=1)
    band = max(3, h // 5)
    middle = region[band:-band, band:-band]
    return (
        rows[:band].max() > 0.6 and rows[-band:].max() > 0.6
        and (middle.mean() if middle.size else 1) < 0.03
    )  # fmt: skip


def _paragraphs(strokes: list[Box]) -> list[Element]:
    """Stacked line strokes with overlapping extents form a paragraph."""
    strokes = sorted(strokes, key=lambda b: b[1])
    groups: list[list[Box]] = []
    for stroke in strokes:
        for group in groups:
            last = group[-1]
            overlap = min(last[2], stroke[2]) - max(last[0], stroke[0])
            gap = stroke[1] - last[3]
            if overlap > 0.4 * (stroke[2] - stroke[0]) and gap < 4 * max(12, last[3] - last[1]):
                group.append(stroke)
                break
        else:
            groups.append([stroke])
    out = []
    for group in groups:
        box = group[0]
        for stroke in group[1:]:
            box = _union(box, stroke)
        out.append(Element("Paragraph", box))
    return out
