"""Measures of one drawn shape, given as a boolean mask cropped to its bounding box: how
closed, how rectangular, how round, how hollow; and what is drawn inside a box (an X)."""

from __future__ import annotations

import cv2
import numpy as np


def border_profile(mask: np.ndarray, band: int) -> tuple[float, float, float, float]:
    """Per side (top, bottom, left, right): share of the side with ink within ``band``."""
    h, w = mask.shape
    b = max(1, min(band, h // 2, w // 2))
    return (
        float(mask[:b].any(0).mean()),
        float(mask[-b:].any(0).mean()),
        float(mask[:, :b].any(1).mean()),
        float(mask[:, -b:].any(1).mean()),
    )


def hole_ratio(mask: np.ndarray) -> float:
    """Area the strokes enclose (their holes), relative to the bounding box."""
    u = mask.astype(np.uint8)
    contours, hierarchy = cv2.findContours(u, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return 0.0
    holes = sum(cv2.contourArea(c) for k, c in enumerate(contours) if hierarchy[0][k][3] >= 0)
    return float(holes / max(1, u.shape[0] * u.shape[1]))


def shape_stats(mask: np.ndarray) -> dict[str, float]:
    """cov: share of the convex hull's outline that is inked (closed outlines ≈ 1);
    rectness: hull area / its minimum rotated rectangle (rectangle ≈ 1, circle ≈ 0.79);
    fill: ink / hull area (outlines are hollow, letters are not)."""
    h, w = mask.shape
    points = cv2.findNonZero(mask.astype(np.uint8))
    if points is None or len(points) < 3:
        return {"cov": 0.0, "rectness": 0.0, "fill": 1.0}
    hull = cv2.convexHull(points)
    hull_area = max(1.0, cv2.contourArea(hull))
    _, (rw, rh), _ = cv2.minAreaRect(points)
    tol = int(max(2, 0.07 * min(w, h) + 2))
    near = cv2.dilate(mask.astype(np.uint8), np.ones((2 * tol + 1, 2 * tol + 1), np.uint8))
    corners = hull[:, 0, :].astype(np.float32)
    outline = []
    for a, b in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        steps = int(np.hypot(*(b - a))) + 1
        t = np.linspace(0, 1, steps, endpoint=False)[:, None]
        outline.append(a + t * (b - a))
    pts = np.concatenate(outline).astype(int)
    pts[:, 0] = pts[:, 0].clip(0, w - 1)
    pts[:, 1] = pts[:, 1].clip(0, h - 1)
    return {
        "cov": float(near[pts[:, 1], pts[:, 0]].mean()),
        "rectness": float(hull_area / max(1.0, rw * rh)),
        "fill": float(mask.sum() / hull_area),
    }


def ring_score(mask: np.ndarray) -> float:
    """Share of the inscribed ellipse that is inked (circles ≈ 1)."""
    h, w = mask.shape
    if h < 6 or w < 6:
        return 0.0
    t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    ys = ((h - 1) / 2 + 0.42 * (h - 1) * np.sin(t)).astype(int)
    xs = ((w - 1) / 2 + 0.42 * (w - 1) * np.cos(t)).astype(int)
    near = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8))
    return float(near[ys, xs].mean())


def corner_score(mask: np.ndarray) -> float:
    """Ink in the four corners of the box (squares have it, circles do not)."""
    h, w = mask.shape
    if h < 6 or w < 6:
        return 0.0
    c = max(2, int(0.1 * min(h, w)))
    patches = (mask[:c, :c], mask[:c, -c:], mask[-c:, :c], mask[-c:, -c:])
    return float(np.mean([p.mean() for p in patches]))


def diag_score(mask: np.ndarray) -> tuple[float, float]:
    """Ink along the two diagonals (an X across an image placeholder): (weaker, stronger)."""
    h, w = mask.shape
    if h < 8 or w < 8:
        return 0.0, 0.0
    near = cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8))
    t = np.linspace(0.15, 0.85, 30)
    down = near[(t * (h - 1)).astype(int), (t * (w - 1)).astype(int)].mean()
    up = near[((1 - t) * (h - 1)).astype(int), (t * (w - 1)).astype(int)].mean()
    return float(min(down, up)), float(max(down, up))


def row_bands(mask: np.ndarray) -> int:
    """How many separate horizontal bands of ink (lines of text) the mask holds."""
    rows = mask.mean(1) > 0.02
    edges = np.diff(np.concatenate([[0], rows.astype(int), [0]]))
    return int((edges == 1).sum())
