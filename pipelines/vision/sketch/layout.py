"""Boxes → a layout tree: rows (elements that share a horizontal band), each row's
elements left to right, grouped into columns by the gaps between them. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass, field

from .detect import Element


@dataclass
class Row:
    band: tuple[int, int]  # the vertical extent of the element that started the row
    elements: list[Element] = field(default_factory=list)

    @property
    def top(self) -> int:
        return min(e.box[1] for e in self.elements)


def build_rows(elements: list[Element]) -> list[Row]:
    """Group elements into rows, top to bottom: an element joins the row whose band (the
    extent of the row's first element) holds its vertical centre. Tall elements (images)
    therefore do not swallow the rows beside them."""
    rows: list[Row] = []
    heights = sorted(e.box[3] - e.box[1] for e in elements) or [0]
    tall = 1.8 * heights[len(heights) // 2]

    def order(e: Element) -> tuple[bool, float]:  # ordinary elements set the rows first
        return (e.box[3] - e.box[1] > tall, (e.box[1] + e.box[3]) / 2)

    for element in sorted(elements, key=order):
        centre = (element.box[1] + element.box[3]) / 2
        for row in rows:
            if row.band[0] <= centre <= row.band[1]:
                row.elements.append(element)
                break
        else:
            rows.append(Row((element.box[1], element.box[3]), [element]))
    for row in rows:
        row.elements.sort(key=lambda e: e.box[0])
    rows.sort(key=lambda r: r.top)
    return rows


def column_start(element: Element, page_width: int, columns: int = 12) -> int:
    """Which of ``columns`` grid columns an element starts in (1-based)."""
    return max(1, min(columns, int(element.box[0] / max(1, page_width) * columns) + 1))


def column_span(element: Element, page_width: int, columns: int = 12) -> int:
    start = column_start(element, page_width, columns)
    end = max(start, min(columns, round(element.box[2] / max(1, page_width) * columns)))
    return max(1, end - start + 1)
