"""A photo of paper → an even, binary ink mask at a fixed working size: flatten lighting and
shadows (divide by the paper's own brightness, estimated with a large closing + blur),
threshold with hysteresis so faint pencil strokes connected to clear ones survive, and drop
specks and the long straight edges of the paper or table. Pure functions of the pixels."""

from __future__ import annotations

import cv2
import numpy as np

WORK_SIDE = 1200  # the longer side of the image the detector works on


def working_image(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """``rgb`` resized so its longer side is WORK_SIDE, and the factor applied."""
    height, width = rgb.shape[:2]
    factor = WORK_SIDE / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    method = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    return cv2.resize(rgb, size, interpolation=method), factor


def flatten_illumination(gray: np.ndarray) -> np.ndarray:
    """Paper becomes 255 everywhere, whatever the lighting; ink stays dark."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (31, 31))
    paper = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, kernel)  # ink removed
    paper = cv2.GaussianBlur(paper, (0, 0), 8)
    flat = gray.astype(np.float32) / np.maximum(paper.astype(np.float32), 1) * 255
    return np.clip(flat, 0, 255).astype(np.uint8)


def _hysteresis(darkness: np.ndarray) -> np.ndarray:
    level, _ = cv2.threshold(darkness, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    level = max(level, 30)
    strong = (darkness > level).astype(np.uint8)
    weak = (darkness > 0.55 * level).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[strong > 0])] = True
    keep[0] = False
    keep &= stats[:, cv2.CC_STAT_AREA] >= 15
    return keep[labels].astype(np.uint8) * 255


def _drop_page_edges(mask: np.ndarray) -> None:
    """Remove long straight lines that reach the photo's border (paper and table edges)."""
    height, width = mask.shape
    for horizontal in (True, False):
        length = int(0.25 * (width if horizontal else height))
        kernel = np.ones((1, length) if horizontal else (length, 1), np.uint8)
        lines = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
        for i in range(1, count):
            x, y, w, h, _ = stats[i]
            if horizontal:
                at_border = x <= 0.02 * width or x + w >= 0.98 * width
            else:
                at_border = y <= 0.02 * height or y + h >= 0.98 * height
            if at_border:
                line = cv2.dilate((labels == i).astype(np.uint8), np.ones((5, 5), np.uint8))
                mask[line > 0] = 0
    mask[:3, :] = 0
    mask[-3:, :] = 0
    mask[:, :3] = 0
    mask[:, -3:] = 0


def ink_mask(rgb: np.ndarray) -> np.ndarray:
    """Where the pen or pencil marks are (uint8, 255 = ink), from an RGB working image."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    mask = _hysteresis(255 - flatten_illumination(gray))
    _drop_page_edges(mask)
    return mask


def find_page(rgb: np.ndarray) -> np.ndarray | None:
    """The corners (top-left, top-right, bottom-right, bottom-left; photo pixels) of a sheet
    of paper photographed on a darker background, or None when no sheet stands out (a scan,
    or paper that fills the photo)."""
    work, factor = working_image(rgb)
    gray = cv2.GaussianBlur(cv2.cvtColor(work, cv2.COLOR_RGB2GRAY), (0, 0), 3)
    level, bright = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((25, 25), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    sheet = max(contours, key=cv2.contourArea)
    area, total = cv2.contourArea(sheet), gray.shape[0] * gray.shape[1]
    if not 0.2 * total <= area <= 0.93 * total:
        return None
    hull = cv2.convexHull(sheet)
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if len(quad) != 4 or cv2.contourArea(quad) < 0.9 * area:
        return None
    points = quad.reshape(4, 2)
    height, width = gray.shape
    margin = 0.015 * max(width, height)
    on_border = (points[:, 0] < margin) | (points[:, 0] > width - 1 - margin)
    on_border |= (points[:, 1] < margin) | (points[:, 1] > height - 1 - margin)
    if on_border.sum() > 1:
        return None  # the "sheet" runs off the photo: a shadow or lighting, not a page edge
    inside = np.zeros_like(gray)
    cv2.fillConvexPoly(inside, points, 255)
    if gray[inside > 0].mean() < gray[inside == 0].mean() + 40:
        return None  # no clear sheet against a darker background
    corners = quad.reshape(4, 2).astype(np.float32) / factor
    order = np.argsort(np.arctan2(*(corners - corners.mean(0)).T[::-1]))
    corners = corners[order]  # clockwise from the top-left quadrant, in image coordinates
    start = int(np.argmin(corners.sum(1)))
    return np.roll(corners, -start, axis=0)


def sheet_aspect(corners: np.ndarray, size: tuple[int, int]) -> float | None:
    """Width / height of the real rectangle whose photo (``size`` = width, height) shows it
    with these corners (TL, TR, BR, BL), for a pinhole camera centred on the photo (Zhang &
    He, "Whiteboard scanning and image enhancement", 2007). The focal length comes from the
    two vanishing points when both are well defined, else a phone camera's (about 0.7 × the
    photo's diagonal) is assumed."""
    m1, m2, m4, m3 = (np.array([x, y, 1.0]) for x, y in corners)  # paper: m3 = BL, m4 = BR
    k2 = np.dot(np.cross(m1, m4), m3) / np.dot(np.cross(m2, m4), m3)
    k3 = np.dot(np.cross(m1, m4), m2) / np.dot(np.cross(m3, m4), m2)
    n2, n3 = k2 * m2 - m1, k3 * m3 - m1
    u0, v0 = size[0] / 2, size[1] / 2
    diagonal2 = float(size[0] ** 2 + size[1] ** 2)
    f2 = 0.49 * diagonal2
    if abs(n2[2] * n3[2]) > 1e-9:
        estimate = -(
            (n2[0] * n3[0] - (n2[0] * n3[2] + n2[2] * n3[0]) * u0 + n2[2] * n3[2] * u0 * u0)
            + (n2[1] * n3[1] - (n2[1] * n3[2] + n2[2] * n3[1]) * v0 + n2[2] * n3[2] * v0 * v0)
        ) / (n2[2] * n3[2])
        if np.isfinite(estimate) and 0.2 * diagonal2 < estimate < 4 * diagonal2:
            f2 = estimate
    focal = np.sqrt(f2)
    inverse = np.linalg.inv(np.array([[focal, 0, u0], [0, focal, v0], [0, 0, 1]]))
    a, b = inverse @ n2, inverse @ n3
    ratio = float(np.sqrt(np.dot(a, a) / np.dot(b, b)))
    return ratio if 0.2 < ratio < 5 else None


def rectify(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The sheet of paper in ``rgb`` seen straight on (perspective undone, table cropped),
    and the homography from the result back to the photo (None: the photo is unchanged)."""
    corners = find_page(rgb)
    if corners is None:
        return rgb, None
    tl, tr, br, bl = corners
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    ratio = sheet_aspect(corners, (rgb.shape[1], rgb.shape[0]))
    if ratio is not None:  # keep the larger side, fix the other from the sheet's real shape
        width, height = (width, width / ratio) if width >= height else (height * ratio, height)
    width, height = int(round(width)), int(round(height))
    if width < 100 or height < 100:
        return rgb, None
    target = np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    forward = cv2.getPerspectiveTransform(corners, target)
    straight = cv2.warpPerspective(rgb, forward, (width, height), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return straight, np.linalg.inv(forward)


def box_to_photo(box, back: np.ndarray) -> tuple[float, float, float, float]:
    """A box on the straightened sheet → the box around it in the photo."""
    x0, y0, x1, y1 = box
    points = np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]).reshape(-1, 1, 2)
    mapped = cv2.perspectiveTransform(points, back).reshape(-1, 2)
    return (float(mapped[:, 0].min()), float(mapped[:, 1].min()),
            float(mapped[:, 0].max()), float(mapped[:, 1].max()))  # fmt: skip
