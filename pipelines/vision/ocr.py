"""Text in images, with boxes: RapidOCR (PP-OCR models in ONNX, shipped inside its wheel,
so it works offline). The angle classifier is off: on screenshots it turned correct lines
into garbage. One engine per process, loaded on first use; results cached per image hash."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .ingest import upscale_for_ocr

_engine = None
_engine_lock = threading.Lock()
_cache: OrderedDict[str, list] = OrderedDict()
_CACHE_SIZE = 32
_MIN_TEXT_PX = 6  # an image less tall (or wide) than a small letter holds no readable text
# RapidOCR scales the longer side down to 2000 pixels and rounds the shorter to a multiple of
# 32: a longer strip (20000×10) rounds to 0 and fails. Strips are padded to this aspect.
_MAX_ASPECT = 8


@dataclass(frozen=True)
class TextBox:
    """A piece of text and where it is (pixels of the image given)."""

    text: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1
    score: float

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


def engine():
    """The shared OCR engine."""
    global _engine
    with _engine_lock:
        if _engine is None:
            from rapidocr import RapidOCR

            _engine = RapidOCR(params={"Global.use_cls": False, "Global.log_level": "error"})
        return _engine


def recognise(image: np.ndarray | Image.Image, min_score: float = 0.5) -> list[TextBox]:
    """Every line of text found in ``image`` (RGB), top to bottom."""
    pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
    pil = pil.convert("RGB")
    key = hashlib.sha256(pil.tobytes() + repr(pil.size).encode()).hexdigest()
    with _engine_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return list(_cache[key])
    if min(pil.size) < _MIN_TEXT_PX:
        return []
    scaled, factor = upscale_for_ocr(pil)
    width, height = scaled.size
    # RapidOCR takes BGR arrays, like OpenCV.
    bgr = np.ascontiguousarray(np.asarray(_padded(scaled))[:, :, ::-1])
    # Explicit switches: RapidOCR keeps the last call's choices (read_line turns detection off).
    result = engine()(bgr, use_det=True, use_cls=False, use_rec=True)
    found: list[TextBox] = []
    if result.boxes is not None:
        for quad, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
            if score < min_score or not text.strip():
                continue
            xs = np.clip(quad[:, 0], 0, width) / factor  # not into the padding
            ys = np.clip(quad[:, 1], 0, height) / factor
            box = (int(xs.min()), int(ys.min()), int(np.ceil(xs.max())), int(np.ceil(ys.max())))
            found.append(TextBox(text.strip(), box, float(score)))
    found.sort(key=lambda t: (t.box[1], t.box[0]))
    with _engine_lock:
        _cache[key] = found
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return list(found)


def _padded(image: Image.Image) -> Image.Image:
    """``image`` with its shorter side padded (right or bottom, in its mean colour) to at
    least 1/_MAX_ASPECT of the longer, so OCR can scale it; boxes keep their coordinates."""
    width, height = image.size
    side = -(-max(width, height) // _MAX_ASPECT)
    if min(width, height) >= side:
        return image
    colour = tuple(int(c) for c in np.asarray(image).reshape(-1, 3).mean(axis=0))
    padded = Image.new("RGB", (max(width, side), max(height, side)), colour)
    padded.paste(image, (0, 0))
    return padded


def read_line(image: np.ndarray | Image.Image) -> tuple[str, float]:
    """The text of an image that holds one line (recognition only, no detection: fast)."""
    pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
    bgr = np.ascontiguousarray(np.asarray(pil.convert("RGB"))[:, :, ::-1])
    result = engine()(bgr, use_det=False, use_cls=False, use_rec=True)
    texts = [t for t in (result.txts or ()) if t.strip()]
    scores = list(result.scores or ())
    return (" ".join(texts).strip(), float(min(scores)) if scores else 0.0)
