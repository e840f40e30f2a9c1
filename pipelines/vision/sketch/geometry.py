"""Axis-aligned boxes (x0, y0, x1, y1) and the few measures the sketch pipeline needs."""

from __future__ import annotations

from collections.abc import Iterable

Box = tuple[float, float, float, float]


def area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def intersection(a: Box, b: Box) -> float:
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    return ix * iy if ix > 0 and iy > 0 else 0.0


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when they do not overlap)."""
    inter = intersection(a, b)
    union_area = area(a) + area(b) - inter
    return inter / union_area if union_area > 0 else 0.0


def inside_frac(a: Box, b: Box) -> float:
    """How much of ``a`` lies inside ``b`` (0..1)."""
    return intersection(a, b) / max(1.0, area(a))


def union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def union_all(boxes: Iterable[Box]) -> Box:
    boxes = list(boxes)
    out = boxes[0]
    for box in boxes[1:]:
        out = union(out, box)
    return out


def scale(box: Box, factor: float) -> Box:
    return (box[0] * factor, box[1] * factor, box[2] * factor, box[3] * factor)


def clip(box: Box, width: float, height: float) -> Box:
    return (max(0.0, box[0]), max(0.0, box[1]), min(width, box[2]), min(height, box[3]))


def v_overlap(a: Box, b: Box) -> float:
    """Vertical overlap of two boxes, relative to the shorter one."""
    shorter = max(1.0, min(a[3] - a[1], b[3] - b[1]))
    return max(0.0, min(a[3], b[3]) - max(a[1], b[1])) / shorter
