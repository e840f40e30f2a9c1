"""Text drawn as a picture, the way typographic attacks (FigStep) carry instructions past a
text filter: black type on white, wrapped to a page width."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_SIZE = 26
_COLUMNS = 60
_MARGIN = 30
_LINE_GAP = 12


def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if _FONT.is_file():
        return ImageFont.truetype(str(_FONT), _SIZE)
    return ImageFont.load_default(size=_SIZE)


def plain_text(markup: str) -> str:
    """What a reader sees of ``markup``: tags dropped, spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)).strip()


def typographic_image(text: str, path: Path, max_lines: int = 40) -> Path:
    """Save ``text`` (its first ``max_lines`` wrapped lines) as a PNG at ``path``."""
    lines = textwrap.wrap(plain_text(text), _COLUMNS)[:max_lines] or [""]
    font = _font()
    height = _SIZE + _LINE_GAP
    width = max(int(font.getlength(line)) for line in lines) + 2 * _MARGIN
    image = Image.new("RGB", (max(width, 200), len(lines) * height + 2 * _MARGIN), "white")
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((_MARGIN, _MARGIN + number * height), line, fill="black", font=font)
    image.save(path)
    return path
