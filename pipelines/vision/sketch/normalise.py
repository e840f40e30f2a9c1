"""A photo of paper → a clean ink mask: even out lighting and shadows (divide by the
blurred background), then threshold. Pure function of the pixels."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

WORK_WIDTH = 1000  # sketches are analysed at this width


def to_working_size(image: Image.Image) -> tuple[np.ndarray, float]:
    """RGB array scaled to WORK_WIDTH, and the factor from working to original pixels."""
    rgb = np.asarray(image.convert("RGB"))
    scale = WORK_WIDTH / rgb.shape[1]
    size = (WORK_WIDTH, max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), 1 / scale


def ink_mask(rgb: np.ndarray) -> np.ndarray:
    """True where pen or pencil marks are (uint8 0/255), with paper texture removed."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    background = cv2.medianBlur(cv2.dilate(gray.astype(np.uint8), np.ones((7, 7))), 31)
    flat = np.clip(gray / np.maximum(background.astype(np.float32), 1) * 255, 0, 255)
    flat = flat.astype(np.uint8)
    _, mask = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # Otsu on nearly blank paper can pick a threshold inside the paper's grain: require ink
    # to be clearly darker than its surroundings as well.
    mask[flat > 200] = 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    height, width = mask.shape
    x, y, w, h = (stats[:, i] for i in range(4))
    touches = (x <= 1) | (y <= 1) | (x + w >= width - 1) | (y + h >= height - 1)
    # The photo's edges (table, shadow, the paper's own border) are not part of the sketch.
    edge = touches & ((w > 0.5 * width) | (h > 0.5 * height))
    drop = np.where((stats[:, cv2.CC_STAT_AREA] < 12) | edge)[0]
    drop = drop[drop != 0]
    mask[np.isin(labels, drop)] = 0
    return mask
