"""A sheet of paper photographed at an angle on a dark table: a pinhole camera tilted
towards the sheet, so its far edge looks shorter (for tests and the sketch benchmark)."""

from __future__ import annotations

import cv2
import numpy as np


def on_table(sheet: np.ndarray, tilt_deg: float = 35.0, margin: float = 0.3):
    """``sheet`` (RGB) as the camera sees it lying on a dark wooden table; returns the photo
    and the homography from sheet pixels to photo pixels."""
    height, width = sheet.shape[:2]
    side = int(max(width, height) * (1 + margin))
    photo = np.empty((side, side, 3), np.uint8)
    photo[:] = (60, 45, 35)
    tilt = np.radians(tilt_deg)
    focal, distance = 1.1 * side, 1.5 * side
    flat = np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    corners = []
    for x, y in flat:
        px, py = x - width / 2 + 0.01 * width, y - height / 2  # near the optical axis
        cx, cy, cz = px, py * np.cos(tilt), distance + py * np.sin(tilt)
        corners.append([side / 2 + focal * cx / cz, side / 2 + focal * cy / cz])
    warp = cv2.getPerspectiveTransform(flat, np.float32(corners))
    cv2.warpPerspective(sheet, warp, (side, side), dst=photo, borderMode=cv2.BORDER_TRANSPARENT)
    return photo, warp
