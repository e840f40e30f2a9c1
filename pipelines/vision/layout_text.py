"""OCR boxes → lines and segments in reading order → a compact text the language model can
reason over ("[top-left] Document 10.docx | AutoSave On"). Pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from .ocr import TextBox


@dataclass(frozen=True)
class TextLine:
    """Boxes on one visual line, split into segments where a wide gap separates them
    (columns, toolbars)."""

    segments: tuple[tuple[TextBox, ...], ...]

    @property
    def box(self) -> tuple[int, int, int, int]:
        boxes = [b.box for seg in self.segments for b in seg]
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )

    def text(self, separator: str = " | ") -> str:
        return separator.join(" ".join(b.text for b in seg) for seg in self.segments)


def line_rows(boxes: Sequence[tuple[float, float, float, float]]) -> list[list[int]]:
    """Indices of ``boxes`` (x0, y0, x1, y1) grouped into visual lines: a box joins a line
    when its middle is within half a typical height of the line's; each line left to
    right, lines top to bottom."""
    if not boxes:
        return []

    def middle(k: int) -> float:
        return (boxes[k][1] + boxes[k][3]) / 2

    def height(k: int) -> float:
        return boxes[k][3] - boxes[k][1]

    typical = median(max(1, height(k)) for k in range(len(boxes)))
    rows: list[list[int]] = []
    for k in sorted(range(len(boxes)), key=middle):
        for row in rows:
            centre = median(middle(j) for j in row)
            if abs(middle(k) - centre) <= 0.5 * max(typical, min(height(k), height(row[0]))):
                row.append(k)
                break
        else:
            rows.append([k])
    for row in rows:
        row.sort(key=lambda k: boxes[k][0])
    rows.sort(key=lambda row: (min(boxes[k][1] for k in row), min(boxes[k][0] for k in row)))
    return rows


def group_lines(boxes: list[TextBox], gap_factor: float = 2.0) -> list[TextLine]:
    """Group boxes into lines (overlapping vertically), left to right, top to bottom."""
    lines = []
    for indices in line_rows([b.box for b in boxes]):
        row = [boxes[k] for k in indices]
        height = median(max(1, b.height) for b in row)
        segments: list[list[TextBox]] = [[row[0]]]
        for box in row[1:]:
            if box.box[0] - segments[-1][-1].box[2] > gap_factor * height:
                segments.append([box])
            else:
                segments[-1].append(box)
        lines.append(TextLine(tuple(tuple(s) for s in segments)))
    return lines


def position_label(box: tuple[int, int, int, int], size: tuple[int, int]) -> str:
    """Coarse place of a box in the image: top-left … bottom-right."""
    x = (box[0] + box[2]) / 2 / max(1, size[0])
    y = (box[1] + box[3]) / 2 / max(1, size[1])
    vertical = "top" if y < 1 / 3 else "middle" if y < 2 / 3 else "bottom"
    horizontal = "left" if x < 1 / 3 else "centre" if x < 2 / 3 else "right"
    return (
        "centre" if (vertical, horizontal) == ("middle", "centre") else f"{vertical}-{horizontal}"
    )


def render_layout(boxes: list[TextBox], size: tuple[int, int], max_chars: int = 6000) -> str:
    """The text of an image as lines in reading order, each with its coarse position."""
    lines = group_lines(boxes)
    if not lines:
        return "(no readable text)"
    out = [f"[{position_label(_first(line), size)}] {line.text()}" for line in lines]
    text = "\n".join(out)
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n[… {len(text) - max_chars} more characters of text]"
    return text


def _first(line: TextLine) -> tuple[int, int, int, int]:
    """The box of a line's first segment (where a reader starts)."""
    boxes = [b.box for b in line.segments[0]]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
