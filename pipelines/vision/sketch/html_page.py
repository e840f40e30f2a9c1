"""Elements + layout tree → one self-contained, responsive, accessible HTML page: rows of
side-by-side parts become flex rows whose widths and indents follow the sketch (and stack
on narrow screens); every part keeps the sketch's vertical band (its drawn height and the
room above it, scaled with the page width: ``--px`` is one sketch pixel), so the page
spreads out the way the drawing does while text stays its natural size; controls are real
form controls with labels (<label for>), buttons, links, headings, image placeholders with
alt text. Every element carries data-sketch="N"
(its index) so its rendered position can be measured. Pure function."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from .elements import Element
from .layout import Node, label_pairs

STYLE = """
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font: 16px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1f2328; background: #fff; }
:root { --accent: #0969da; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px; }
h1, h2 { margin: 0; line-height: 1.2; }
h1 { font-size: 2rem; } h2 { font-size: 1.4rem; }
p { margin: 0; color: #57606a; }
.row { display: flex; flex-wrap: nowrap; align-items: center; gap: 0 1.5%; }
.stack { display: flex; flex-direction: column; align-items: stretch; }
.cell { min-width: 0; display: flex; flex-direction: column; justify-content: center; }
.cell > * { align-self: flex-start; max-width: 100%; }
.cell.top { justify-content: flex-start; }
.cell > .row, .cell > .stack, .cell > p, .cell > img, .cell > input, .cell > select,
.cell > textarea, .cell > button { align-self: stretch; }
.label { font-weight: 600; display: inline-block; }
input[type=text], select, textarea { width: 100%; padding: 8px 10px; font: inherit;
       border: 1px solid #8c959f; border-radius: 6px; background: #fff; }
textarea { min-height: 5em; resize: vertical; }
button { width: 100%; padding: 10px 16px; font: inherit; font-weight: 600; color: #fff;
       background: var(--accent); border: 0; border-radius: 6px; cursor: pointer; }
.choice { display: inline-flex; align-items: center; gap: 8px; }
.choice input { width: 1.1em; height: 1.1em; margin: 0; }
img.placeholder { display: block; width: 100%; height: auto; background: #eaeef2;
       border: 1px solid #8c959f; border-radius: 4px; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #fb8f44; outline-offset: 2px; }
@media (max-width: 640px) {
  .row { flex-direction: column; align-items: stretch; gap: 8px; }
  .row > .cell { flex: 1 1 auto !important; margin-left: 0 !important; width: 100%;
                 margin-top: 0 !important; min-height: 0 !important; }
}
"""

# Controls sit at the top of the band drawn for them (a drawn field is often taller than a
# real one, and its label is just above); text sits in the middle of its band.
TOP_TAGS = frozenset({"TextBox", "ComboBox", "Button"})

LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat."
)
_PLACEHOLDER_SVG = (
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 100 100' preserveAspectRatio='none'>"
    "<path d='M0 0L100 100M100 0L0 100' stroke='%238c959f' stroke-width='1' "
    "vector-effect='non-scaling-stroke'/></svg>"
)
IMAGE_SRC = "data:image/svg+xml," + quote(_PLACEHOLDER_SVG, safe="'=:/ ")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


class _Page:
    def __init__(self, elements: list[Element], tree: Node):
        self.elements = elements
        self.tree = tree
        self.labels = label_pairs(elements)  # field → label
        self.named = {li: fi for fi, li in self.labels.items()}  # label → field
        self.ids = {i: f"{e.tag.lower()}-{i + 1}" for i, e in enumerate(elements)}
        self.groups: dict[int, str] = {}
        self.first_heading = min(
            (i for i, e in enumerate(elements) if e.tag == "Heading"),
            key=lambda i: (elements[i].box[1], elements[i].box[0]),
            default=None,
        )
        sizes = sorted(e.height for e in elements if e.tag in ("Label", "TextBox", "Button"))
        self.unit = sizes[len(sizes) // 2] if sizes else 40.0
        self._radio_groups(tree, 0)

    def _radio_groups(self, node: Node, depth: int) -> None:
        """Radio buttons under the same innermost row/column share one name."""
        direct = [c.element for c in node.children if c.kind == "leaf"]
        radios = [i for i in direct if i is not None and self.elements[i].tag == "RadioButton"]
        for i in radios:
            self.groups[i] = f"choice-{self.ids[radios[0]]}"
        for child in node.children:
            if child.kind != "leaf":
                self._radio_groups(child, depth + 1)

    def text(self, i: int, fallback: str) -> str:
        return self.elements[i].text.strip() or fallback

    def name_of_field(self, i: int) -> str:
        if i in self.labels:
            return self.text(self.labels[i], "")
        return ""

    def control(self, i: int) -> str:
        e, ident = self.elements[i], self.ids[i]
        tag, mark = e.tag, f'data-sketch="{i}"'
        if tag == "Heading":
            level = 1 if i == self.first_heading else 2
            return f'<h{level} id="{ident}" {mark}>{_esc(self.text(i, "Title"))}</h{level}>'
        if tag == "Label":
            words = _esc(self.text(i, "Label"))
            if i in self.named:
                return (
                    f'<label class="label" for="{self.ids[self.named[i]]}" {mark}>{words}</label>'
                )
            return f'<span class="label" {mark}>{words}</span>'
        if tag == "Link":
            return f'<a href="#" {mark}>{_esc(self.text(i, "Link"))}</a>'
        if tag == "Button":
            return (
                f'<button type="button" id="{ident}" {mark}>{_esc(self.text(i, "Button"))}</button>'
            )
        if tag == "Paragraph":
            return f"<p {mark}>{self._lorem(e)}</p>"
        if tag == "Image":
            ratio = f"{max(1, round(e.width))} / {max(1, round(e.height))}"
            alt = _esc(self._image_alt(i))
            return (
                f'<img class="placeholder" src="{IMAGE_SRC}" alt="{alt}" '
                f'style="aspect-ratio: {ratio}" {mark}>'
            )
        if tag in ("CheckBox", "RadioButton"):
            kind = "checkbox" if tag == "CheckBox" else "radio"
            name = self.groups.get(i, ident)
            words = _esc(self.text(i, "Option"))
            return (
                f'<span class="choice" {mark}><input type="{kind}" id="{ident}" name="{name}">'
                f'<label for="{ident}">{words}</label></span>'
            )
        name = self.name_of_field(i)
        hint = e.text.strip()
        accessible = "" if name else f' aria-label="{_esc(hint or self._field_name(i))}"'
        if tag == "ComboBox":
            option = _esc(hint or "Choose…")
            return (
                f'<select id="{ident}" name="{ident}"{accessible} {mark}>'
                f"<option>{option}</option></select>"
            )
        placeholder = f' placeholder="{_esc(hint)}"' if hint else ""
        if e.height > 2.2 * self.unit and e.width < 6 * e.height:
            return (
                f'<textarea id="{ident}" name="{ident}"{placeholder}{accessible} {mark}></textarea>'
            )
        return f'<input type="text" id="{ident}" name="{ident}"{placeholder}{accessible} {mark}>'

    def _nth(self, i: int) -> int:
        """Which one of its kind element ``i`` is (1-based)."""
        return sum(1 for j in range(i + 1) if self.elements[j].tag == self.elements[i].tag)

    def _field_name(self, i: int) -> str:
        kind = "Choice" if self.elements[i].tag == "ComboBox" else "Text field"
        return f"{kind} {self._nth(i)}"

    def _image_alt(self, i: int) -> str:
        """An image placeholder is named after the nearest text just below or beside it."""
        e = self.elements[i]
        best, best_d = None, 3 * max(self.unit, 1.0)
        for j, o in enumerate(self.elements):
            if o.tag not in ("Label", "Heading") or not o.text.strip():
                continue
            below = o.box[1] - e.box[3]
            beside = o.box[0] - e.box[2]
            overlap_x = min(o.box[2], e.box[2]) - max(o.box[0], e.box[0]) > 0
            overlap_y = min(o.box[3], e.box[3]) - max(o.box[1], e.box[1]) > 0
            d = None
            if overlap_x and below >= -5:
                d = below
            elif overlap_y and beside >= -5:
                d = beside
            if d is not None and d < best_d:
                best, best_d = j, d
        if best is not None:
            return f"Image: {self.elements[best].text.strip()}"
        return f"Image placeholder {self._nth(i)}"

    def _lorem(self, e: Element) -> str:
        lines = max(1, round(e.height / max(self.unit * 0.8, 1)))
        words = LOREM.split()
        count = max(6, min(len(words), int(lines * e.width / max(self.unit * 1.6, 1))))
        return " ".join(words[:count]) + "."

    @property
    def scale_style(self) -> str:
        """``--px``: one pixel of the drawing at the page's content width."""
        width = max(1.0, self.tree.box[2] - self.tree.box[0])
        return f"--px: calc((min(100vw, 1200px) - 48px) / {width:.0f})"

    @staticmethod
    def _band(length: float, most: str) -> str:
        """A sketch length as CSS, capped at ``most``."""
        return f"min(calc(var(--px) * {max(0.0, length):.0f}), {most})"

    def node(self, node: Node, parent: Node | None) -> str:
        if node.kind == "leaf":
            return self.control(node.element)
        inner = []
        previous = None
        for child in node.children:
            body = self.node(child, node)
            style = self._placement(child, node, previous)
            top = child.kind == "leaf" and self.elements[child.element].tag in TOP_TAGS
            inner.append(f'<div class="cell{" top" if top else ""}"{style}>{body}</div>')
            previous = child
        css = "row" if node.kind == "row" else "stack"
        frame = " data-sketch-frame" if parent is None else ""  # the drawing's extent
        return f'<div class="{css}"{frame}>' + "".join(inner) + "</div>"

    def _placement(self, child: Node, parent: Node, previous: Node | None) -> str:
        """Width and indent inside a row, spacing inside a stack, as in the sketch."""
        pw = max(1.0, parent.box[2] - parent.box[0])
        if parent.kind == "row":
            start = previous.box[2] if previous is not None else parent.box[0]
            indent = max(0.0, (child.box[0] - start) / pw * 100)
            if previous is not None:
                indent = max(0.0, indent - 1.5)  # the row's gap already separates them
            width = max(1.0, (child.box[2] - child.box[0]) / pw * 100)
            height = self._band(child.box[3] - child.box[1], "24rem")
            return (
                f' style="flex: 0 1 {width:.1f}%; margin-left: {indent:.1f}%; min-height: {height}"'
            )
        # The room above, negative where drawn bands overlap (the content seldom fills them).
        gap = 0.0 if previous is None else child.box[1] - previous.box[3]
        width = (child.box[2] - child.box[0]) / pw * 100
        indent = (child.box[0] - parent.box[0]) / pw * 100
        room = f"min(8rem, max(-2rem, calc(var(--px) * {gap:.0f})))"
        style = f"margin-top: {room}" if previous is not None else ""
        if child.kind == "leaf":
            style += f"; min-height: {self._band(child.box[3] - child.box[1], '24rem')}"
        if child.kind == "leaf" and self.elements[child.element].tag not in ("Paragraph",):
            style += f"; width: {max(5.0, width):.1f}%; margin-left: {indent:.1f}%"
        elif child.kind != "leaf":
            style += f"; margin-left: {indent:.1f}%; width: {max(5.0, width):.1f}%"
        return f' style="{style.lstrip("; ")}"'


def page_html(
    elements: list[Element], tree: Node, title: str | None = None, accent: str | None = None
) -> str:
    """A complete HTML document for ``elements`` laid out as ``tree``; ``accent`` (a CSS
    colour) colours its buttons and links."""
    page = _Page(elements, tree)
    heading = page.text(page.first_heading, "") if page.first_heading is not None else ""
    page_title = _esc(title or heading or "Page from a sketch")
    body = page.node(tree, None) if elements else "<p>No elements were found in the sketch.</p>"
    controls = {"TextBox", "ComboBox", "CheckBox", "RadioButton", "Button"}
    if any(e.tag in controls for e in elements):
        body = f'<form action="#" method="post" onsubmit="return false">{body}</form>'
    accent_style = f"; --accent: {_esc(accent)}" if accent else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{page_title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<main style="{page.scale_style}{accent_style}">\n{body}\n</main>\n</body>\n</html>\n'
    )


def strip_tags(markup: str) -> str:
    """The visible words of a fragment (for tests and previews)."""
    return " ".join(re.sub(r"<[^>]+>", " ", markup).split())
