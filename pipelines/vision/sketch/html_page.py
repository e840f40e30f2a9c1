"""The layout tree → a responsive, accessible HTML page: a 12-column grid that mirrors the
sketch on wide screens and stacks on narrow ones; real form controls with labels. Pure."""

from __future__ import annotations

import html
import re

from .detect import Element
from .layout import Row, build_rows, column_span, column_start

STYLE = """
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1f2328; background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
.row { display: grid; grid-template-columns: repeat(12, 1fr); gap: 12px; align-items: center;
       margin-bottom: 16px; }
h1 { font-size: 2rem; margin: 0; }
label, .label { font-weight: 600; }
input[type=text], select { width: 100%; padding: 8px 10px; border: 1px solid #8c959f;
       border-radius: 6px; font: inherit; }
button { padding: 10px 18px; border: 0; border-radius: 6px; background: #0969da; color: #fff;
       font: inherit; font-weight: 600; cursor: pointer; }
button:focus-visible, input:focus-visible, select:focus-visible, a:focus-visible {
       outline: 3px solid #fb8f44; outline-offset: 2px; }
.choice { display: flex; gap: 8px; align-items: center; }
.placeholder { display: flex; align-items: center; justify-content: center; width: 100%;
       aspect-ratio: 4 / 3; background: #eaeef2; border: 2px dashed #8c959f; color: #57606a; }
p { margin: 0; line-height: 1.5; color: #57606a; }
@media (max-width: 640px) { .row { grid-template-columns: 1fr; }
       .row > * { grid-column: 1 / -1 !important; } }
"""

LOREM = "Text goes here: a short paragraph describing this part of the page."


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:30] or "field"
    slug, n = base, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    used.add(slug)
    return slug


def _text(element: Element, fallback: str) -> str:
    return html.escape(element.text.strip() or fallback)


def _control(element: Element, label_for: str | None, used: set[str], index: int) -> str:
    tag = element.tag
    if tag == "Heading":
        return f"<h1>{_text(element, 'Title')}</h1>"
    if tag == "Label":
        text = _text(element, "Label")
        if label_for:
            return f'<label for="{label_for}">{text}</label>'
        return f'<span class="label">{text}</span>'
    if tag == "Link":
        return f'<a href="#">{_text(element, "Link")}</a>'
    if tag == "Button":
        return f'<button type="button">{_text(element, "Button")}</button>'
    if tag == "Paragraph":
        return f"<p>{LOREM}</p>"
    if tag == "Image":
        return f'<div class="placeholder" role="img" aria-label="Image {index}">Image</div>'
    if tag in ("CheckBox", "RadioButton"):
        kind = "checkbox" if tag == "CheckBox" else "radio"
        text = _text(element, "Option")
        ident = _slug(element.text or kind, used)
        name = ident if kind == "checkbox" else "choice"
        return (
            f'<div class="choice"><input type="{kind}" id="{ident}" name="{name}">'
            f'<label for="{ident}">{text}</label></div>'
        )
    ident = element.ident or _slug(tag, used)
    if tag == "ComboBox":
        return (
            f'<select id="{ident}" aria-label="{_aria(element)}"><option>Choose…</option></select>'
        )
    return f'<input type="text" id="{ident}" aria-label="{_aria(element)}">'


def _aria(element: Element) -> str:
    return html.escape(element.label or element.tag, quote=True)


def _row_html(row: Row, width: int, used: set[str], counter: list[int]) -> str:
    # A label followed by a field in the same row names that field.
    for left, right in zip(row.elements, row.elements[1:], strict=False):
        if left.tag == "Label" and right.tag in ("TextBox", "ComboBox"):
            right.ident = _slug(left.text or right.tag, used)
            right.label = left.text.strip() or right.tag
            left.ident = right.ident
    cells = []
    for element in row.elements:
        counter[0] += 1
        start = column_start(element, width)
        span = min(column_span(element, width), 13 - start)
        label_for = element.ident if element.tag == "Label" else None
        control = _control(element, label_for, used, counter[0])
        cells.append(f'<div style="grid-column: {start} / span {span}">{control}</div>')
    return '<div class="row">' + "".join(cells) + "</div>"


def page_html(elements: list[Element], width: int, title: str | None = None) -> str:
    """A complete HTML document for the detected elements."""
    used: set[str] = set()
    counter = [0]
    heading = next((e.text for e in elements if e.tag == "Heading" and e.text.strip()), None)
    page_title = html.escape(title or heading or "Page from a sketch")
    rows = [_row_html(row, width, used, counter) for row in build_rows(elements)]
    body = "\n".join(rows)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{page_title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<main><form onsubmit="return false">\n{body}\n</form></main>\n</body>\n</html>\n'
    )
