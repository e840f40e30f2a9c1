"""What the kernel is told about an image when no vision model can see it: the text in it,
with its layout, and what kind of picture it is."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .ingest import load_image
from .kind import ImageKind, classify
from .layout_text import group_lines, render_layout
from .ocr import TextBox, recognise

# A vision model from models/manifest.py to suggest (small, Apache-2.0); a test checks the
# name is still there.
SUGGESTED_VISION_MODEL = "moondream2"
_HOW_TO_SEE = (
    "To have images described, download a vision model "
    f"(`vistavox models download {SUGGESTED_VISION_MODEL}`) and pick it in Settings → "
    "Vision model."
)
KEY_TEXT_LINES = 8
_MIN_SCORE = 0.75  # below this OCR's reading is more often wrong than right on handwriting
_MIN_CHARS = 3  # letters or digits: "×", "0", "A" or "12" alone are icons and fragments
_MAX_CHARS = 80  # one quoted piece; longer lines are cut at a word


@dataclass(frozen=True)
class ImageDescription:
    name: str
    size: tuple[int, int]
    sha256: str
    text_layout: str  # lines of text with coarse positions
    line_count: int
    kind: ImageKind = ImageKind.PHOTO  # estimated from the pixels and the text boxes
    key_text: tuple[str, ...] = ()  # the most telling pieces of text, in reading order

    def as_text(self) -> str:
        width, height = self.size
        return (
            f"Kind of image (estimated): {self.kind.description}.\n"
            f"Image {self.name} ({width}x{height} pixels). Text read from it by OCR, "
            f"with positions (OCR can misread; pictures, colours and shapes are not "
            f"described):\n{self.text_layout}"
        )

    def summary(self) -> str:
        """The answer to "what does this image show?" without a vision model, facts first:
        the kind of image and its key text, in one or two sentences (plus what a vision
        model would add when the text says little)."""
        opening = f"This looks like a {self.kind.description}."
        if not self.key_text:
            unseen = "what's in it" if self.kind is ImageKind.PHOTO else "its pictures or shapes"
            return (
                f"{opening} It has no readable text, and without a vision model I can't see "
                f"{unseen}. {_HOW_TO_SEE}"
            )
        if self.kind is ImageKind.DOCUMENT:
            # Each line quoted as read: a title and the first line of text are not one phrase.
            begins = ", then ".join(f"“{line}”" for line in self.key_text[:2])
            return f"{opening} It begins: {begins}."
        listed = _quoted_list(self.key_text)
        if self.kind is ImageKind.SKETCH:
            text = f"{opening} Its words include {listed}."
        elif self.kind is ImageKind.SCREENSHOT:
            text = f"{opening} Its text includes {listed}."
        else:
            text = f"{opening} Text in it includes {listed}."
        if self.kind is ImageKind.PHOTO or len(self.key_text) < 3:
            # Little text, or a photo: the text is not what the picture is about.
            text += (
                " Without a vision model I can't see its pictures, colours or shapes. "
                + _HOW_TO_SEE
            )
        return text


def describe_image(path: Path | bytes, name: str | None = None) -> ImageDescription:
    """Read an image's text and layout, and estimate its kind (raises ImageError for
    unusable files)."""
    ingested = load_image(path)
    boxes = recognise(ingested.image)
    label = name or (Path(path).name if not isinstance(path, bytes) else "image")
    return ImageDescription(
        label,
        ingested.size,
        ingested.sha256,
        render_layout(boxes, ingested.size),
        len(boxes),
        classify(ingested.image, boxes),
        key_text(boxes),
    )


def key_text(boxes: Sequence[TextBox], limit: int = KEY_TEXT_LINES) -> tuple[str, ...]:
    """The most telling pieces of text, in reading order: each a run of words on one line
    (a title, a label, a button, a line of a page), read confidently, not a 1-2 character
    fragment, each once. OCR's spelling is kept (a misread word is not "corrected")."""
    found: list[str] = []
    seen: set[str] = set()
    for line in group_lines(list(boxes)):
        for segment in line.segments:
            words = [b.text for b in segment if b.score >= _MIN_SCORE]
            text = " ".join(" ".join(words).split())
            if sum(c.isalnum() for c in text) < _MIN_CHARS:
                continue
            folded = re.sub(r"\W+", " ", text.casefold()).strip()
            if folded in seen:
                continue
            seen.add(folded)
            found.append(_clip(text, _MAX_CHARS))
            if len(found) == limit:
                return tuple(found)
    return tuple(found)


def _quoted_list(items: Sequence[str]) -> str:
    """“a”, “b” and “c”."""
    quoted = [f"“{item}”" for item in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _clip(text: str, limit: int) -> str:
    """``text`` cut at a word to at most ``limit`` characters, with "…" when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(" ,;:") + "…"
