"""What the kernel is told about an image when no vision model can see it: the text in it,
with its layout, and what kind of picture it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .ingest import load_image
from .layout_text import render_layout
from .ocr import recognise


@dataclass(frozen=True)
class ImageDescription:
    name: str
    size: tuple[int, int]
    sha256: str
    text_layout: str  # lines of text with coarse positions
    line_count: int

    def as_text(self) -> str:
        width, height = self.size
        return (
            f"Image {self.name} ({width}x{height} pixels). Text read from it by OCR, "
            f"with positions (OCR can misread; pictures, colours and shapes are not "
            f"described):\n{self.text_layout}"
        )


def describe_image(path: Path | bytes, name: str | None = None) -> ImageDescription:
    """Read an image's text and layout (raises ImageError for unusable files)."""
    ingested = load_image(path)
    boxes = recognise(ingested.image)
    label = name or (Path(path).name if not isinstance(path, bytes) else "image")
    return ImageDescription(
        label,
        ingested.size,
        ingested.sha256,
        render_layout(boxes, ingested.size),
        len(boxes),
    )
