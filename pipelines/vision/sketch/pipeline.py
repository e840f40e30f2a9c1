"""Photo of a hand-drawn wireframe → elements (with their words) → layout tree → HTML."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..ingest import load_image
from . import detector
from .elements import Element
from .geometry import Box, clip
from .html_page import page_html
from .layout import Node, build_tree
from .normalise import box_to_photo, rectify
from .refine import ACCENTS, Refinement, apply_refinement
from .text import assign_text


@dataclass
class SketchResult:
    """What a sketch became: its elements (photo pixels), their layout, the page."""

    elements: list[Element]
    layout: Node
    html: str
    size: tuple[int, int]  # the photo's width and height
    # The same elements on the straightened sheet, which the layout and page were made from.
    page_elements: list[Element] = field(default_factory=list)
    title: str | None = None

    def refined(self, refinement: Refinement) -> SketchResult:
        """The same page with a language model's refinement (words, title, accent) applied:
        same elements, same layout, only words and colours differ."""
        page_elements = apply_refinement(self.page_elements, refinement)
        html = page_html(
            page_elements, self.layout, self.title or refinement.title,
            ACCENTS.get(refinement.accent or ""),
        )  # fmt: skip
        return replace(
            self, elements=apply_refinement(self.elements, refinement), html=html,
            page_elements=page_elements,
        )  # fmt: skip

    def boxes_json(self) -> str:
        return json.dumps(
            {
                "size": list(self.size),
                "elements": [e.to_json() for e in self.elements],
                "layout": self.layout.to_json(),
            },
            indent=2,
            ensure_ascii=False,
        )


def _reader(image):
    from ..ocr import read_line

    width, height = image.size

    def read(box: Box) -> tuple[str, float]:
        x0, y0, x1, y1 = (int(round(v)) for v in clip(box, width, height))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return "", 0.0
        return read_line(image.crop((x0, y0, x1, y1)))

    return read


def _detect_straight(image, read_text: bool) -> list[Element]:
    from ..ocr import recognise

    rgb = np.asarray(image.convert("RGB"))
    lines = recognise(rgb, min_score=0.0)
    elements = detector.detect(rgb, lines)
    if read_text:
        assign_text(elements, lines, _reader(image))
    elements.sort(key=lambda e: (e.box[1], e.box[0]))
    return elements


def _straighten(image):
    """The sheet seen straight on (PIL image) and the homography back to the photo."""
    from PIL import Image

    straight, back = rectify(np.asarray(image.convert("RGB")))
    return (image if back is None else Image.fromarray(straight)), back


def _in_photo(elements: list[Element], back) -> list[Element]:
    if back is None:
        return elements
    return [replace(e, box=box_to_photo(e.box, back),
                    parts=[box_to_photo(p, back) for p in e.parts]) for e in elements]  # fmt: skip


def detect_elements(image, *, read_text: bool = True, straighten: bool = True) -> list[Element]:
    """The elements of a sketch (an RGB PIL image), boxes in its pixels, top to bottom; a
    sheet photographed at an angle on a darker table is straightened first."""
    straight, back = _straighten(image) if straighten else (image, None)
    return _in_photo(_detect_straight(straight, read_text), back)


def sketch_to_html(photo: Path | bytes, title: str | None = None) -> SketchResult:
    """A working page from a photo (a path or the file's bytes) of a hand-drawn wireframe."""
    ingested = load_image(photo)
    straight, back = _straighten(ingested.image)
    elements = _detect_straight(straight, read_text=True)
    # The layout follows the straightened sheet; the boxes reported are the photo's.
    tree = build_tree(elements)
    html = page_html(elements, tree, title)
    return SketchResult(_in_photo(elements, back), tree, html, ingested.image.size, elements, title)
