"""Sketch photo → elements (with their words) → HTML, in one call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..ingest import load_image
from .detect import Element, detect
from .html_page import page_html
from .normalise import ink_mask, to_working_size

TEXT_TAGS = {"Heading", "Label", "Link", "Button", "CheckBox", "RadioButton"}


@dataclass
class SketchResult:
    elements: list[Element]  # boxes in the photo's pixels
    size: tuple[int, int]
    html: str

    def boxes_json(self) -> dict:
        return {
            "size": list(self.size),
            "elements": [{"tag": e.tag, "box": list(e.box), "text": e.text} for e in self.elements],
        }


def pad_box(box, pad: float, size: tuple[int, int]):
    """Loosen a tight ink box the way people draw boxes around elements."""
    x0, y0, x1, y1 = box
    margin = pad * (y1 - y0) + 3
    return (
        max(0, int(x0 - margin)),
        max(0, int(y0 - margin)),
        min(size[0], int(x1 + margin)),
        min(size[1], int(y1 + margin)),
    )


def read_words(image, elements: list[Element]) -> None:
    """OCR each text-bearing element's area (handwriting; upper case reads best)."""
    from ..ocr import read_line

    for element in elements:
        if element.tag not in TEXT_TAGS:
            continue
        x0, y0, x1, y1 = element.box
        if element.parts:  # skip the check box / radio circle itself
            x0 = max(x0, max(p[2] for p in element.parts))
        if x1 - x0 < 8 or y1 - y0 < 8:
            continue
        crop = image.crop((x0, y0, x1, y1))
        if crop.width < 8 or crop.height < 8:
            continue
        text, score = read_line(crop)
        element.text = text if score >= 0.4 else ""


def detect_elements(image, *, pad: float = 0.18, read_text: bool = True) -> list[Element]:
    """The elements of a sketch (an RGB PIL image), boxes in its own pixels."""
    rgb, scale = to_working_size(image)
    found = detect(ink_mask(rgb))
    for element in found:
        element.box = tuple(int(v * scale) for v in element.box)
        element.parts = [tuple(int(v * scale) for v in p) for p in element.parts]
    if read_text:
        read_words(image, found)
    for element in found:
        element.box = pad_box(element.box, pad, image.size)
    return found


def sketch_to_html(photo: Path | bytes) -> SketchResult:
    """A working page from a photo of a hand-drawn wireframe."""
    ingested = load_image(photo)
    elements = detect_elements(ingested.image)
    return SketchResult(elements, ingested.size, page_html(elements, ingested.size[0]))
