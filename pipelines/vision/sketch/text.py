"""The words written in each element: OCR lines that lie inside it, or (when a line runs
across several elements, or none was found) the element's own crop read again; words
misread by one letter are put right (``spelling``)."""

from __future__ import annotations

import re
from collections.abc import Callable

from .elements import Element
from .geometry import Box, inside_frac
from .spelling import correct_text

READ_TAGS = frozenset(
    {"Heading", "Label", "Link", "Button", "CheckBox", "RadioButton", "ComboBox", "TextBox"}
)
MIN_SCORE = 0.5
_MARKER_CHARS = "□■☐☑☒○●◎◉@©®口回"

Reader = Callable[[Box], tuple[str, float]]


def text_area(element: Element) -> Box:
    """Where an element's words are: without the check box / radio marker; inside a box."""
    x0, y0, x1, y1 = element.box
    for part in element.parts:
        if part[2] <= (x0 + x1) / 2:  # marker on the left
            x0 = max(x0, part[2])
        else:
            x1 = min(x1, part[0])
    return (x0, y0, x1, y1)


def clean(text: str, tag: str) -> str:
    """Drop what OCR reads a drawn marker or a dropdown arrow as."""
    text = " ".join(text.split()).strip(_MARKER_CHARS + " ")  # a drawn box read as 口 or □
    if tag in ("CheckBox", "RadioButton"):
        text = re.sub(r"^[0Oo]\s+(?=\S)", "", text)
        text = re.sub(r"\s+[0Oo]$", "", text)
    if tag == "ComboBox":
        text = re.sub(r"\s*[VvY▼▽∇]$", "", text)
    text = text.strip()
    # One lone non-Latin letter is what OCR makes of a few scribbled strokes (三 for three
    # paragraph lines): too little to be a reading.
    alnum = [ch for ch in text if ch.isalnum()]
    if len(alnum) == 1 and not alnum[0].isascii():
        return ""
    return text if alnum else ""


def assign_text(elements: list[Element], lines, read: Reader | None = None) -> None:
    """Fill ``element.text`` from OCR ``lines`` (objects with ``box``, ``text``, ``score``,
    same pixels as the elements); ``read(box)`` reads one crop when the lines do not fit."""
    for element in elements:
        if element.tag not in READ_TAGS:
            continue
        area = text_area(element)
        if area[2] - area[0] < 6 or area[3] - area[1] < 6:
            continue
        inside = [t for t in lines if inside_frac(t.box, area) > 0.3 and t.score >= MIN_SCORE]
        whole = [t for t in inside if inside_frac(t.box, area) > 0.7]
        if inside and len(whole) == len(inside):
            ordered = sorted(whole, key=lambda t: (round(t.box[1] / 20), t.box[0]))
            text = " ".join(t.text for t in ordered)
        elif read is not None:
            text, score = read(area)
            text = text if score >= MIN_SCORE else ""
        else:
            text = " ".join(t.text for t in inside)
        element.text = correct_text(clean(text, element.tag))
