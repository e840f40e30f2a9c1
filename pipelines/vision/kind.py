"""What kind of picture an image is, without a vision model: a photo or scan of a hand-drawn
sketch, a screenshot, a page of printed text, or anything else (a photo).

Pure and fast (tens of milliseconds for a 2000-pixel image): a few statistics of the pixels,
measured on a copy at most ``_SIDE`` pixels across, and of the OCR boxes
(:func:`vistavox.pipelines.vision.ocr.recognise`). Each threshold below says why it sits
where it does; they were chosen by reasoning about how such images are made, then checked
(not fitted) on the evaluation images (../shared/eval: sketches and screenshots).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import median

import cv2
import numpy as np
from PIL import Image

from .layout_text import line_rows
from .ocr import TextBox

_SIDE = 800  # longest side the statistics are measured at (keeps them fast and comparable)


class ImageKind(StrEnum):
    SKETCH = "sketch"  # a photo or scan of a hand-drawn sketch, wireframe or form on paper
    SCREENSHOT = "screenshot"  # an app, desktop or web page as rendered on a screen
    DOCUMENT = "document"  # a page of printed text: many lines on a plain background
    PHOTO = "photo"  # anything else: a photo (with or without text), a picture

    @property
    def description(self) -> str:
        """What to call it in a sentence ("This looks like a …")."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    ImageKind.SKETCH: "hand-drawn sketch or wireframe on paper",
    ImageKind.SCREENSHOT: "screenshot of an app or web page",
    ImageKind.DOCUMENT: "document page",
    ImageKind.PHOTO: "photo",
}


@dataclass(frozen=True)
class ImageStats:
    """The measurements :func:`classify` decides on (all shares are 0…1)."""

    flat: float  # pixels exactly equal to their right and lower neighbours
    ruled: float  # ruler-straight edges between flat areas, in image widths
    plain: float  # pixels within a few percent of the local background ("paper")
    colourful: float  # clearly saturated pixels
    ink: float  # pixels much darker than the local background (strokes, text)
    boxes: int  # OCR text boxes
    rows: int  # visual lines of text
    text_height: float  # median box height / image height
    text_width: float  # median box width / image width
    confidence: float  # mean OCR score


def measure(image: Image.Image, boxes: Sequence[TextBox]) -> ImageStats:
    """Measure ``image`` (RGB) and its OCR ``boxes`` (pixels of ``image``)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    width, height = image.size
    # Work on copies at most _SIDE pixels across, made by PIL without copying the full image.
    factor = max(1, int(np.ceil(max(width, height) / _SIDE)))
    size = (max(1, width // factor), max(1, height // factor))
    # Exact-value statistics need untouched pixel values: every k-th pixel (no averaging,
    # which would smooth camera noise into false flatness).
    sampled = np.asarray(image.resize(size, Image.Resampling.NEAREST))
    # Tone statistics use block averages (what the eye sees from a distance).
    small = np.asarray(image.reduce(factor)) if factor > 1 else np.asarray(image)
    plain, ink = _paper(small)
    return ImageStats(
        flat=_flat_share(sampled),
        ruled=_ruled_edges(sampled),
        plain=plain,
        colourful=_colourful(small),
        ink=ink,
        **_text_stats(boxes, width, height),
    )


def classify(image: Image.Image, boxes: Sequence[TextBox]) -> ImageKind:
    """The kind of ``image``, given its OCR ``boxes`` (from ``recognise(image)``)."""
    return decide(measure(image, boxes))


def decide(stats: ImageStats) -> ImageKind:
    """The kind of image these statistics describe."""
    # Paper, or a page-like background: nearly all pixels sit on a smooth background (a
    # photo of things has texture and shading in most places: 0.43 on real photos, >= 0.91 on
    # sketch photos and scans, 0.87-0.90 on pages of text), it is not colourful (objects,
    # sky and skin are: 0.3-0.8; a blue ballpoint line is too thin to count: <= 0.03 on
    # sketches), and it carries some dark strokes (a blank wall or sky has none), but not so
    # much dark that it is a dark scene or a dark-mode window.
    paper = stats.plain >= 0.75 and stats.colourful < 0.1 and 0.003 <= stats.ink < 0.35
    # A page of text: many lines (>= 6) of small text (a body line is 1-3% of a page's
    # height; handwriting on a sketch is 5% or more of the photo) whose OCR boxes are long
    # (running text is read in whole lines, a quarter of the page wide or more; a UI's
    # labels and a sketch's words are short).
    page_of_text = stats.rows >= 6 and stats.text_height <= 0.045 and stats.text_width >= 0.25
    if page_of_text and paper:
        return ImageKind.DOCUMENT
    # Screens are drawn by software: panel borders, separators, toolbars and table rules are
    # exactly horizontal or vertical with flat colour on both sides. Screenshots have
    # several image widths' worth of such edges (1.8-24 as PNG, still >= 0.9 after JPEG at
    # quality 50); a photo or scan of paper has none (noise on the paper side, and
    # hand-drawn lines wobble: 0.0 on every sketch). Half a width is well clear of both.
    if stats.ruled >= 0.5:
        return ImageKind.SCREENSHOT
    if stats.flat >= 0.6:
        # Large exactly flat areas: drawn by software, or a scan cleaned to pure white
        # (camera photos of paper stay below 0.6, even after JPEG; rendered images and
        # cleaned scans are 0.7-0.95). Printed text is told from handwriting by how surely
        # OCR reads it (rendered text >= 0.98 on average, handwriting 0.84-0.96) or by its
        # size (screen and page text is 1-4% of the image's height; handwriting photographed
        # on a sheet 5% or more).
        printed = stats.boxes >= 1 and (
            stats.confidence >= 0.98 or (stats.boxes >= 3 and stats.text_height <= 0.035)
        )
        if printed:
            # Running text on a plain page (typed text saved as a picture, a page snippet).
            if paper and stats.text_width >= 0.25:
                return ImageKind.DOCUMENT
            return ImageKind.SCREENSHOT
        if paper:
            return ImageKind.SKETCH
        # A rendered picture: with text it is most likely part of a screen; without, a
        # graphic or picture ("anything else").
        return ImageKind.SCREENSHOT if stats.boxes >= 3 else ImageKind.PHOTO
    return ImageKind.SKETCH if paper else ImageKind.PHOTO


def _flat_share(rgb: np.ndarray) -> float:
    """Share of pixels exactly equal to their right and lower neighbours. Software draws
    flat colour; a camera sensor adds noise that breaks exact equality almost everywhere."""
    if rgb.shape[0] < 2 or rgb.shape[1] < 2:
        return 0.0
    c = rgb.astype(np.int32)
    packed = (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2]  # one number per colour
    right = packed[:-1, 1:] == packed[:-1, :-1]
    down = packed[1:, :-1] == packed[:-1, :-1]
    return float((right & down).mean())


def _ruled_edges(rgb: np.ndarray, margin: float = 0.03) -> float:
    """Total length, in image widths (of the longer side), of straight horizontal and
    vertical edges at least a tenth of that long with (nearly) flat colour on both sides.
    Measured against the longer side, so the stems of large letters in a short image do not
    count. The outer 3% is skipped: scans and crops often have a straight paper edge or
    white padding there."""
    grey = rgb.astype(np.int16).sum(axis=2)  # 0…765: a change in any channel counts
    side = max(grey.shape)
    total = 0.0
    for plane in (grey, grey.T):
        if plane.shape[0] < 3 or plane.shape[1] < 3:
            continue
        # A step between rows y and y+1 of more than 15 levels per channel (a light grey
        # separator on white is 25-30), with each side constant along the row within 2
        # levels in all (JPEG leaves that much on flat areas, camera noise far more).
        step = np.abs(plane[1:, :-1] - plane[:-1, :-1]) > 45
        above = np.abs(plane[:-1, 1:] - plane[:-1, :-1]) <= 2
        below = np.abs(plane[1:, 1:] - plane[1:, :-1]) <= 2
        edge = step & above & below
        cut = int(margin * edge.shape[0])
        if cut:
            edge[:cut] = False
            edge[-cut:] = False
        lengths = _run_lengths(edge) / side
        total += float(lengths[lengths >= 0.1].sum())
    return total


def _run_lengths(mask: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True along each row of ``mask``."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), np.int8)
    padded[:, 1:-1] = mask
    change = np.diff(padded, axis=1)
    starts = np.nonzero(change == 1)[1]
    ends = np.nonzero(change == -1)[1]
    return ends - starts


def _paper(rgb: np.ndarray) -> tuple[float, float]:
    """(share of background-like pixels, share of ink-like pixels), each against the local
    background: the median level nearby (over ~1/40 of the image, much wider than a pen
    stroke, so strokes and letters do not move it), so uneven light on paper and the
    paper's grain do not matter."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    k = max(3, round(max(grey.shape) / 40) | 1)
    background = cv2.medianBlur(grey, k).astype(np.float32)
    ratio = grey.astype(np.float32) / np.maximum(background, 1.0)
    plain = np.abs(ratio - 1.0) < 0.06  # within the paper's own grain and JPEG noise
    ink = ratio < 0.8  # pencil and pen strokes are at least 20% darker than their paper
    return float(plain.mean()), float(ink.mean())


def _colourful(rgb: np.ndarray) -> float:
    """Share of clearly coloured pixels: saturation over 35% and not near black (dark
    pixels have unstable hue and saturation)."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    return float(((hsv[..., 1] > 0.35 * 255) & (hsv[..., 2] > 0.25 * 255)).mean())


def _text_stats(boxes: Sequence[TextBox], width: int, height: int) -> dict:
    if not boxes:
        return {"boxes": 0, "rows": 0, "text_height": 0.0, "text_width": 0.0, "confidence": 0.0}
    return {
        "boxes": len(boxes),
        "rows": len(line_rows([b.box for b in boxes])),
        "text_height": median(b.height for b in boxes) / max(1, height),
        "text_width": median(b.box[2] - b.box[0] for b in boxes) / max(1, width),
        "confidence": sum(b.score for b in boxes) / len(boxes),
    }
