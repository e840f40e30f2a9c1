"""Apply a parsed edit to a page's HTML (BeautifulSoup): inline styles with readable
contrast, new words, removed or added elements, a dark or light theme. Pure function."""

from __future__ import annotations

import datetime as _dt
import re

import webcolors
from bs4 import BeautifulSoup, Tag

from ..errors import VistavoxError
from .requests import KINDS, Edit, Target

THEME_ID = "vistavox-theme"
EDITS_STYLE_ID = "vistavox-edits"
_THEMES = {
    "dark": (
        "body { background: #0d1117 !important; color: #e6edf3 !important; }\n"
        "p, .label, label { color: #c9d1d9 !important; }\n"
        "input, select, textarea { background: #161b22 !important; color: #e6edf3 !important;"
        " border-color: #484f58 !important; }\n"
        "a { color: #58a6ff !important; }\n"
    ),
    "light": "",
}
_ADDED_CSS = (
    "footer.page-footer { margin-top: 2rem; padding: 16px 24px; border-top: 1px solid #d0d7de;"
    " color: #57606a; text-align: center; }\n"
)


class PageEditError(VistavoxError):
    """The edit cannot be made to this page (say, there is no such element)."""


def _style_dict(tag: Tag) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in str(tag.get("style", "")).split(";"):
        if ":" in part:
            key, value = part.split(":", 1)
            out[key.strip().lower()] = value.strip()
    return out


def _set_style(tag: Tag, changes: dict[str, str]) -> None:
    style = _style_dict(tag)
    style.update(changes)
    tag["style"] = "; ".join(f"{k}: {v}" for k, v in style.items())


def readable_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (WCAG relative luminance)."""
    try:
        hex_value = colour if colour.startswith("#") else webcolors.name_to_hex(colour)
        rgb = webcolors.hex_to_rgb(hex_value)
    except ValueError:
        return "#ffffff"
    channels = []
    for c in rgb:
        c = c / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    return "#000000" if luminance > 0.179 else "#ffffff"


def _words_of(tag: Tag, soup: BeautifulSoup) -> str:
    """What a user would call an element by: its text, placeholder, label or alt text."""
    parts = [tag.get_text(" ", strip=True)]
    for attr in ("placeholder", "aria-label", "alt", "value", "title"):
        if tag.get(attr):
            parts.append(str(tag[attr]))
    if tag.get("id"):
        for label in soup.find_all("label", attrs={"for": tag["id"]}):
            parts.append(label.get_text(" ", strip=True))
    return " ".join(parts).lower()


def find(soup: BeautifulSoup, target: Target) -> list[Tag]:
    """The elements ``target`` names, in document order."""
    found = soup.select(KINDS[target.kind])
    if target.kind == "heading" and not found:
        found = soup.select("h1, h2, h3, h4")
    if target.words:
        wanted = target.words.lower()
        found = [t for t in found if wanted in _words_of(t, soup)]
    if target.nth is not None and found:
        index = target.nth - 1 if target.nth > 0 else target.nth
        found = [found[index]] if -len(found) <= index < len(found) else []
    return found


def _main(soup: BeautifulSoup) -> Tag:
    container = soup.find("form") or soup.find("main") or soup.body
    if container is None:
        raise PageEditError("the page has no body to add to")
    return container


def _extra_style(soup: BeautifulSoup, ident: str, css: str) -> None:
    style = soup.find("style", id=ident)
    if style is None:
        style = soup.new_tag("style", id=ident)
        (soup.head or soup).append(style)
    style.string = css


def _add(soup: BeautifulSoup, edit: Edit) -> None:
    kind, words = edit.target.kind, edit.text
    if kind == "footer":
        footer = soup.find("footer") or soup.new_tag("footer", attrs={"class": "page-footer"})
        footer.clear()
        footer.append(words or f"© {_dt.date.today().year}")
        if footer.parent is None:
            (soup.body or soup).append(footer)
        _extra_style(soup, EDITS_STYLE_ID, _ADDED_CSS)
        return
    container = _main(soup)
    wrapper = soup.new_tag("div", attrs={"class": "cell", "style": "margin-top: 1rem"})
    if kind == "button":
        element = soup.new_tag("button", attrs={"type": "button"})
        element.string = words or "Button"
        wrapper["style"] += "; width: 30%"
    elif kind in ("heading", "subtitle"):
        element = soup.new_tag("h2")
        element.string = words or "Heading"
    elif kind == "link":
        element = soup.new_tag("a", href="#")
        element.string = words or "Link"
    elif kind == "label":
        element = soup.new_tag("span", attrs={"class": "label"})
        element.string = words or "Label"
    elif kind == "text box":
        count = len(soup.select("input[type=text], textarea")) + 1
        ident = f"added-field-{count}"
        label = soup.new_tag("label", attrs={"class": "label", "for": ident})
        label.string = words or f"Field {count}"
        wrapper.append(label)
        element = soup.new_tag("input", attrs={"type": "text", "id": ident, "name": ident})
    elif kind == "image":
        element = soup.new_tag("img", attrs={"class": "placeholder", "alt": words or "Image",
                                             "style": "aspect-ratio: 16 / 9"})  # fmt: skip
        source = soup.find("img")
        element["src"] = source["src"] if source and source.get("src") else ""
    else:  # paragraph
        element = soup.new_tag("p")
        element.string = words or "New paragraph."
    wrapper.append(element)
    container.append(wrapper)


def _set_text(soup: BeautifulSoup, tags: list[Tag], words: str) -> None:
    for tag in tags:
        if tag.name == "input" and tag.get("type") in ("checkbox", "radio"):
            label = soup.find("label", attrs={"for": tag.get("id")}) if tag.get("id") else None
            if label is not None:
                label.string = words
                continue
        if tag.name in ("input", "textarea"):
            tag["placeholder"] = words
        elif tag.name == "img":
            tag["alt"] = words
        elif tag.name == "select":
            option = tag.find("option") or soup.new_tag("option")
            option.string = words
            if option.parent is None:
                tag.append(option)
        else:
            tag.clear()
            tag.append(words)
        if tag.name in ("h1",) and soup.title is not None:
            soup.title.string = words


def _remove(soup: BeautifulSoup, tags: list[Tag]) -> None:
    for tag in tags:
        if tag.get("id"):
            for label in soup.find_all("label", attrs={"for": tag["id"]}):
                label.decompose()
        holder = tag
        # Take the layout cell with it when the element was its only content.
        while (
            holder.parent is not None
            and holder.parent.name in ("div", "span")
            and len([c for c in holder.parent.children if isinstance(c, Tag)]) == 1
        ):
            holder = holder.parent
        holder.decompose()


def _style(tags: list[Tag], edit: Edit) -> None:
    for tag in tags:
        changes = dict(edit.style)
        if tag.name == "input" and tag.get("type") in ("checkbox", "radio"):
            colour = changes.pop("color", None) or changes.pop("background-color", None)
            if colour:
                changes["accent-color"] = colour
        if "background-color" in changes and "color" not in changes:
            changes["color"] = readable_on(changes["background-color"])
        if edit.scale != 1.0:
            current = _style_dict(tag).get("font-size", "1em")
            m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)em", current)  # not "1.2.3em"
            size = float(m[1]) if m else 1.0
            changes["font-size"] = f"{size * edit.scale:.2f}em"
        if "text-align" in changes and tag.name in ("button", "input", "img", "select"):
            align = changes.pop("text-align")
            margins = {"center": ("auto", "auto"), "left": ("0", "auto"), "right": ("auto", "0")}
            left, right = margins[align]
            changes.update({"display": "block", "margin-left": left, "margin-right": right})
            cell = tag.parent
            if cell is not None and cell.name == "div":
                _set_style(cell, {"margin-left": left, "margin-right": right})
        _set_style(tag, changes)


def apply_edit(page: str, edit: Edit) -> str:
    """``page`` (a complete HTML document) with ``edit`` made; PageEditError if it cannot."""
    soup = BeautifulSoup(page, "html.parser")
    if edit.action == "theme":
        _extra_style(soup, THEME_ID, _THEMES[edit.text])
        return str(soup)
    if edit.action == "add":
        _add(soup, edit)
        return str(soup)
    tags = find(soup, edit.target)
    if not tags:
        raise PageEditError(f"I could not find {edit.target.describe()} on the page")
    if edit.action == "text":
        _set_text(soup, tags, edit.text)
    elif edit.action == "remove":
        _remove(soup, tags)
    else:
        _style(tags, edit)
    return str(soup)
